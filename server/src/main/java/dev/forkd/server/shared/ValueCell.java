package dev.forkd.server.shared;

/** multiprocessing.Value: one typed scalar, kept whole in its name's row. */
final class ValueCell extends Cell {

    Scalar value;

    ValueCell(String name, Scalar value) {
        super(name);
        this.value = value;
    }

    @Override
    SharedStore.Kind kind() {
        return SharedStore.Kind.VALUE;
    }

    @Override
    long size() {
        return 1;
    }

    @Override
    long bytes() {
        return value.size();
    }
}
