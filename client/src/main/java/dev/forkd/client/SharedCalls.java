package dev.forkd.client;

import dev.forkd.v1.AddArrayItemRequest;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.AppendListRequest;
import dev.forkd.v1.CompareAndSetDictItemRequest;
import dev.forkd.v1.CompareAndSetDictItemResponse;
import dev.forkd.v1.CompareAndSetValueRequest;
import dev.forkd.v1.CompareAndSetValueResponse;
import dev.forkd.v1.CreateArrayRequest;
import dev.forkd.v1.DeleteDictItemRequest;
import dev.forkd.v1.DeleteDictItemResponse;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetArrayRequest;
import dev.forkd.v1.GetDictItemRequest;
import dev.forkd.v1.GetDictItemResponse;
import dev.forkd.v1.GetListItemRequest;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.ListDictItemsRequest;
import dev.forkd.v1.ListDictItemsResponse;
import dev.forkd.v1.PopListRequest;
import dev.forkd.v1.Scalar;
import dev.forkd.v1.SetArrayRequest;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SetListItemRequest;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SliceListRequest;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The shared-state RPCs: the only shared-state code that knows the protos. */
final class SharedCalls {

    /** A compare-and-set's answer. */
    record Swap(boolean swapped, Optional<Scalar> current) {}

    private final Rpc rpc;

    SharedCalls(Rpc rpc) {
        this.rpc = rpc;
    }

    // Values

    long getValue(String name) {
        return ScalarCodec.INT64.decode(Rpc.call(() -> rpc.shared().getValue(
                GetValueRequest.newBuilder().setName(name).build())).getValue());
    }

    void setValue(String name, long value) {
        Rpc.call(() -> rpc.shared().setValue(SetValueRequest.newBuilder().setName(name)
                .setValue(ScalarCodec.INT64.encode(value)).build()));
    }

    /** Adds and answers the value after. */
    long addValue(String name, long delta) {
        return ScalarCodec.INT64.decode(Rpc.call(() -> rpc.shared().addValue(AddValueRequest.newBuilder()
                .setName(name).setDelta(ScalarCodec.INT64.encode(delta)).build())).getValue());
    }

    /** Compare-and-set; answers whether it swapped and the value now. */
    Swap compareAndSetValue(String name, long expected, long value) {
        CompareAndSetValueResponse r = Rpc.call(() -> rpc.shared().compareAndSetValue(CompareAndSetValueRequest
                .newBuilder().setName(name).setExpected(ScalarCodec.INT64.encode(expected))
                .setValue(ScalarCodec.INT64.encode(value)).build()));
        return new Swap(r.getSwapped(), Optional.of(r.getCurrent()));
    }

    // Dicts: a dict that does not exist yet reads as empty.

    Optional<Scalar> getDictItem(String name, String key) {
        try {
            GetDictItemResponse r = Rpc.call(() -> rpc.shared().getDictItem(GetDictItemRequest.newBuilder()
                    .setName(name).setKey(key).build()));
            return r.getFound() ? Optional.of(r.getValue()) : Optional.empty();
        } catch (ForkdException e) {
            return missing(e);
        }
    }

    void setDictItems(String name, Map<String, Scalar> items) {
        SetDictItemsRequest.Builder b = SetDictItemsRequest.newBuilder().setName(name);
        items.forEach((k, v) -> b.addItems(DictItem.newBuilder().setKey(k).setValue(v)));
        Rpc.call(() -> rpc.shared().setDictItems(b.build()));
    }

    Optional<Scalar> deleteDictItem(String name, String key) {
        try {
            DeleteDictItemResponse r = Rpc.call(() -> rpc.shared().deleteDictItem(DeleteDictItemRequest.newBuilder()
                    .setName(name).setKey(key).build()));
            return r.getFound() ? Optional.of(r.getValue()) : Optional.empty();
        } catch (ForkdException e) {
            return missing(e);
        }
    }

    /** Sets {@code key} to {@code value} if it now is {@code expected} (empty: absent). */
    Swap compareAndSetDictItem(String name, String key, Optional<Scalar> expected, Scalar value) {
        CompareAndSetDictItemRequest.Builder b = CompareAndSetDictItemRequest.newBuilder().setName(name).setKey(key)
                .setValue(value);
        expected.ifPresent(b::setExpected);
        CompareAndSetDictItemResponse r = Rpc.call(() -> rpc.shared().compareAndSetDictItem(b.build()));
        return new Swap(r.getSwapped(), r.hasCurrent() ? Optional.of(r.getCurrent()) : Optional.empty());
    }

    /** Every entry, in key order, page by page. */
    Map<String, Scalar> dictItems(String name) {
        Map<String, Scalar> all = new LinkedHashMap<>();
        String token = "";
        try {
            do {
                String page = token;
                ListDictItemsResponse r = Rpc.call(() -> rpc.shared().listDictItems(ListDictItemsRequest.newBuilder()
                        .setName(name).setPageToken(page).build()));
                r.getItemsList().forEach(i -> all.put(i.getKey(), i.getValue()));
                token = r.getNextPageToken();
            } while (!token.isEmpty());
        } catch (ForkdException e) {
            missing(e);
        }
        return all;
    }

    long dictSize(String name) {
        try {
            return Rpc.call(() -> rpc.shared().listDictItems(ListDictItemsRequest.newBuilder().setName(name)
                    .setKeysOnly(true).setPageSize(1).build())).getSize();
        } catch (ForkdException e) {
            missing(e);
            return 0;
        }
    }

    // Lists: a list that does not exist yet reads as empty.

    long append(String name, List<Scalar> items) {
        return Rpc.call(() -> rpc.shared().appendList(AppendListRequest.newBuilder().setName(name)
                .addAllItems(items).build())).getLength();
    }

    Scalar listItem(String name, long index) {
        return Rpc.call(() -> rpc.shared().getListItem(GetListItemRequest.newBuilder().setName(name)
                .setIndex(index).build())).getItem();
    }

    void setListItem(String name, long index, Scalar item) {
        Rpc.call(() -> rpc.shared().setListItem(SetListItemRequest.newBuilder().setName(name).setIndex(index)
                .setItem(item).build()));
    }

    Scalar pop(String name, long index) {
        return Rpc.call(() -> rpc.shared().popList(PopListRequest.newBuilder().setName(name).setIndex(index)
                .build())).getItem();
    }

    long listLength(String name) {
        try {
            return Rpc.call(() -> rpc.shared().sliceList(SliceListRequest.newBuilder().setName(name).setStart(0)
                    .setStop(0).build())).getLength();
        } catch (ForkdException e) {
            missing(e);
            return 0;
        }
    }

    /** Items {@code [start, stop)}. */
    List<Scalar> slice(String name, long start, long stop) {
        try {
            return Rpc.call(() -> rpc.shared().sliceList(SliceListRequest.newBuilder().setName(name).setStart(start)
                    .setStop(stop).build())).getItemsList();
        } catch (ForkdException e) {
            missing(e);
            return List.of();
        }
    }

    // Arrays

    long createArray(String name, ScalarCodec<?> codec, long length) {
        return Rpc.call(() -> rpc.shared().createArray(CreateArrayRequest.newBuilder().setName(name)
                .setType(codec.type()).setLength(length).build())).getLength();
    }

    /** Elements {@code [start, stop)}, or all with nulls; and the length. */
    List<Scalar> arraySlice(String name, Long start, Long stop) {
        GetArrayRequest.Builder b = GetArrayRequest.newBuilder().setName(name);
        if (start != null) {
            b.setStart(start);
        }
        if (stop != null) {
            b.setStop(stop);
        }
        return Rpc.call(() -> rpc.shared().getArray(b.build())).getItemsList();
    }

    long arrayLength(String name) {
        return Rpc.call(() -> rpc.shared().getArray(GetArrayRequest.newBuilder().setName(name).setStart(0)
                .setStop(0).build())).getLength();
    }

    Scalar arrayItem(String name, long index) {
        return Rpc.call(() -> rpc.shared().getArray(GetArrayRequest.newBuilder().setName(name).setIndex(index)
                .build())).getItems(0);
    }

    void setArray(String name, long start, List<Scalar> items) {
        Rpc.call(() -> rpc.shared().setArray(SetArrayRequest.newBuilder().setName(name).setStart(start)
                .addAllItems(items).build()));
    }

    Scalar addArrayItem(String name, long index, Scalar delta) {
        return Rpc.call(() -> rpc.shared().addArrayItem(AddArrayItemRequest.newBuilder().setName(name)
                .setIndex(index).setDelta(delta).build())).getItem();
    }

    void delete(String name) {
        try {
            Rpc.call(() -> rpc.shared().delete(DeleteSharedRequest.newBuilder().setName(name).build()));
        } catch (ForkdException e) {
            missing(e);
        }
    }

    /** A missing object reads as empty; any other refusal stands. */
    private static <T> Optional<T> missing(ForkdException e) {
        if (e.code() != Status.Code.NOT_FOUND) {
            throw e;
        }
        return Optional.empty();
    }

    static List<Scalar> encodeAll(List<?> values, ScalarCodec<?> codec) {
        List<Scalar> out = new ArrayList<>(values.size());
        for (Object v : values) {
            out.add(encodeUnchecked(codec, v));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <T> Scalar encodeUnchecked(ScalarCodec<T> codec, Object v) {
        return codec.encode((T) v);
    }
}
