package dev.forkd.server.grpc;

import com.google.protobuf.ByteString;
import dev.forkd.server.error.ForkdException.InvalidArgument;
import dev.forkd.server.error.ForkdException.Unavailable;
import dev.forkd.server.shared.Scalar;
import dev.forkd.server.shared.SharedStore;
import dev.forkd.server.watch.WatchAdmission;
import dev.forkd.v1.AddArrayItemRequest;
import dev.forkd.v1.AddArrayItemResponse;
import dev.forkd.v1.AddValueRequest;
import dev.forkd.v1.AddValueResponse;
import dev.forkd.v1.AppendListRequest;
import dev.forkd.v1.AppendListResponse;
import dev.forkd.v1.CompareAndSetDictItemRequest;
import dev.forkd.v1.CompareAndSetDictItemResponse;
import dev.forkd.v1.CompareAndSetValueRequest;
import dev.forkd.v1.CompareAndSetValueResponse;
import dev.forkd.v1.CreateArrayRequest;
import dev.forkd.v1.CreateArrayResponse;
import dev.forkd.v1.DeleteDictItemRequest;
import dev.forkd.v1.DeleteDictItemResponse;
import dev.forkd.v1.DeleteSharedRequest;
import dev.forkd.v1.DeleteSharedResponse;
import dev.forkd.v1.DictItem;
import dev.forkd.v1.GetArrayRequest;
import dev.forkd.v1.GetArrayResponse;
import dev.forkd.v1.GetDictItemRequest;
import dev.forkd.v1.GetDictItemResponse;
import dev.forkd.v1.GetListItemRequest;
import dev.forkd.v1.GetListItemResponse;
import dev.forkd.v1.GetValueRequest;
import dev.forkd.v1.GetValueResponse;
import dev.forkd.v1.ListDictItemsRequest;
import dev.forkd.v1.ListDictItemsResponse;
import dev.forkd.v1.ListSharedRequest;
import dev.forkd.v1.ListSharedResponse;
import dev.forkd.v1.PopListRequest;
import dev.forkd.v1.PopListResponse;
import dev.forkd.v1.ScalarType;
import dev.forkd.v1.SetArrayRequest;
import dev.forkd.v1.SetArrayResponse;
import dev.forkd.v1.SetDictItemsRequest;
import dev.forkd.v1.SetDictItemsResponse;
import dev.forkd.v1.SetListItemRequest;
import dev.forkd.v1.SetListItemResponse;
import dev.forkd.v1.SetValueRequest;
import dev.forkd.v1.SetValueResponse;
import dev.forkd.v1.SharedInfo;
import dev.forkd.v1.SharedKind;
import dev.forkd.v1.SharedServiceGrpc;
import dev.forkd.v1.SliceListRequest;
import dev.forkd.v1.SliceListResponse;
import dev.forkd.v1.WatchSharedRequest;
import dev.forkd.v1.WatchSharedResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/** SharedService: decode, call the {@link SharedStore}, encode. */
public final class SharedServiceAdapter extends SharedServiceGrpc.SharedServiceImplBase {

    private final SharedStore store;
    private final Executor executor;
    private final WatchAdmission watches;

    /** Without caps on watches: for tests of other things. */
    public SharedServiceAdapter(SharedStore store, Executor executor) {
        this(store, executor, WatchAdmission.unlimited());
    }

    public SharedServiceAdapter(SharedStore store, Executor executor, WatchAdmission watches) {
        this.store = store;
        this.executor = executor;
        this.watches = watches;
    }

    @Override
    public void getValue(GetValueRequest r, StreamObserver<GetValueResponse> out) {
        answer(out, () -> store.getValue(r.getName()),
                v -> GetValueResponse.newBuilder().setValue(proto(v.value())).setVersion(v.version()).build());
    }

    @Override
    public void setValue(SetValueRequest r, StreamObserver<SetValueResponse> out) {
        answer(out, () -> store.setValue(r.getName(), scalar("value", r.hasValue(), r.getValue())),
                version -> SetValueResponse.newBuilder().setVersion(version).build());
    }

    @Override
    public void compareAndSetValue(CompareAndSetValueRequest r, StreamObserver<CompareAndSetValueResponse> out) {
        answer(out, () -> store.compareAndSetValue(r.getName(), scalar("expected", r.hasExpected(), r.getExpected()),
                scalar("value", r.hasValue(), r.getValue())), s -> {
                    var b = CompareAndSetValueResponse.newBuilder().setSwapped(s.swapped()).setVersion(s.version());
                    s.current().ifPresent(c -> b.setCurrent(proto(c)));
                    return b.build();
                });
    }

    @Override
    public void addValue(AddValueRequest r, StreamObserver<AddValueResponse> out) {
        answer(out, () -> store.addValue(r.getName(), scalar("delta", r.hasDelta(), r.getDelta())),
                v -> AddValueResponse.newBuilder().setValue(proto(v.value())).setVersion(v.version()).build());
    }

    @Override
    public void getDictItem(GetDictItemRequest r, StreamObserver<GetDictItemResponse> out) {
        answer(out, () -> store.dictGet(r.getName(), r.getKey()), found -> {
            var b = GetDictItemResponse.newBuilder();
            found.ifPresent(v -> b.setFound(true).setValue(proto(v)));
            return b.build();
        });
    }

    @Override
    public void setDictItems(SetDictItemsRequest r, StreamObserver<SetDictItemsResponse> out) {
        answer(out, () -> {
            List<Map.Entry<String, Scalar>> items = r.getItemsList().stream()
                    .map(i -> Map.entry(i.getKey(), scalar("items.value", i.hasValue(), i.getValue()))).toList();
            return store.dictSet(r.getName(), items);
        }, s -> SetDictItemsResponse.newBuilder().setSize(s.size()).setVersion(s.version()).build());
    }

    @Override
    public void deleteDictItem(DeleteDictItemRequest r, StreamObserver<DeleteDictItemResponse> out) {
        answer(out, () -> store.dictDelete(r.getName(), r.getKey()), d -> {
            var b = DeleteDictItemResponse.newBuilder().setSize(d.size());
            d.value().ifPresent(v -> b.setFound(true).setValue(proto(v)));
            return b.build();
        });
    }

    @Override
    public void compareAndSetDictItem(CompareAndSetDictItemRequest r, StreamObserver<CompareAndSetDictItemResponse> out) {
        answer(out, () -> {
            Optional<Scalar> expected = r.hasExpected() ? Optional.of(scalar("expected", true, r.getExpected()))
                    : Optional.empty();
            return store.dictCompareAndSet(r.getName(), r.getKey(), expected, scalar("value", r.hasValue(), r.getValue()));
        }, s -> {
            var b = CompareAndSetDictItemResponse.newBuilder().setSwapped(s.swapped()).setVersion(s.version());
            s.current().ifPresent(c -> b.setCurrent(proto(c)));
            return b.build();
        });
    }

    @Override
    public void listDictItems(ListDictItemsRequest r, StreamObserver<ListDictItemsResponse> out) {
        String filter = "dict items|" + r.getName();
        answer(out, () -> {
            if (r.getPageSize() < 0 || r.getPageSize() > SharedStore.MAX_PAGE) {
                throw new InvalidArgument("page_size", "must be between 0 (default " + SharedStore.MAX_PAGE
                        + ") and " + SharedStore.MAX_PAGE);
            }
            int size = r.getPageSize() == 0 ? SharedStore.MAX_PAGE : r.getPageSize();
            Optional<String> after = PageTokens.after(r.getPageToken(), filter);
            return store.dictItems(r.getName(), size, after);
        }, page -> {
            var b = ListDictItemsResponse.newBuilder().setSize(page.size());
            for (var e : page.items()) {
                var item = DictItem.newBuilder().setKey(e.getKey());
                if (!r.getKeysOnly()) {
                    item.setValue(proto(e.getValue()));
                }
                b.addItems(item);
            }
            page.nextAfter().ifPresent(key -> b.setNextPageToken(PageTokens.next(filter, key)));
            return b.build();
        });
    }

    @Override
    public void appendList(AppendListRequest r, StreamObserver<AppendListResponse> out) {
        answer(out, () -> store.listAppend(r.getName(), r.getItemsList().stream().map(s -> scalar("items", true, s)).toList()),
                length -> AppendListResponse.newBuilder().setLength(length).build());
    }

    @Override
    public void getListItem(GetListItemRequest r, StreamObserver<GetListItemResponse> out) {
        answer(out, () -> store.listGet(r.getName(), r.getIndex()),
                item -> GetListItemResponse.newBuilder().setItem(proto(item)).build());
    }

    @Override
    public void setListItem(SetListItemRequest r, StreamObserver<SetListItemResponse> out) {
        answer(out, () -> {
            store.listSet(r.getName(), r.getIndex(), scalar("item", r.hasItem(), r.getItem()));
            return true;
        }, done -> SetListItemResponse.getDefaultInstance());
    }

    @Override
    public void popList(PopListRequest r, StreamObserver<PopListResponse> out) {
        answer(out, () -> store.listPop(r.getName(), r.hasIndex() ? Optional.of(r.getIndex()) : Optional.empty()),
                p -> PopListResponse.newBuilder().setItem(proto(p.value().orElseThrow())).setLength(p.size()).build());
    }

    @Override
    public void sliceList(SliceListRequest r, StreamObserver<SliceListResponse> out) {
        answer(out, () -> store.listSlice(r.getName(), r.hasStart() ? Optional.of(r.getStart()) : Optional.empty(),
                r.hasStop() ? Optional.of(r.getStop()) : Optional.empty()), s -> {
                    var b = SliceListResponse.newBuilder().setLength(s.length());
                    s.items().forEach(i -> b.addItems(proto(i)));
                    return b.build();
                });
    }

    @Override
    public void createArray(CreateArrayRequest r, StreamObserver<CreateArrayResponse> out) {
        answer(out, () -> store.createArray(r.getName(), zero(r.getType()), r.getLength(),
                r.getItemsList().stream().map(s -> scalar("items", true, s)).toList()),
                c -> CreateArrayResponse.newBuilder().setCreated(c.created()).setLength(c.length())
                        .setVersion(c.version()).build());
    }

    @Override
    public void getArray(GetArrayRequest r, StreamObserver<GetArrayResponse> out) {
        answer(out, () -> {
            if (r.hasIndex() && (r.hasStart() || r.hasStop())) {
                throw new InvalidArgument("index", "give an index or a start and stop, not both");
            }
            return r.hasIndex() ? store.arrayGet(r.getName(), r.getIndex())
                    : store.arraySlice(r.getName(), r.hasStart() ? Optional.of(r.getStart()) : Optional.empty(),
                            r.hasStop() ? Optional.of(r.getStop()) : Optional.empty());
        }, s -> {
            var b = GetArrayResponse.newBuilder().setLength(s.length()).setType(type(s.zero())).setVersion(s.version());
            s.items().forEach(i -> b.addItems(proto(i)));
            return b.build();
        });
    }

    @Override
    public void setArray(SetArrayRequest r, StreamObserver<SetArrayResponse> out) {
        answer(out, () -> store.arraySet(r.getName(), r.getStart(),
                r.getItemsList().stream().map(s -> scalar("items", true, s)).toList()),
                version -> SetArrayResponse.newBuilder().setVersion(version).build());
    }

    @Override
    public void addArrayItem(AddArrayItemRequest r, StreamObserver<AddArrayItemResponse> out) {
        answer(out, () -> store.arrayAdd(r.getName(), r.getIndex(), scalar("delta", r.hasDelta(), r.getDelta())),
                v -> AddArrayItemResponse.newBuilder().setItem(proto(v.value())).setVersion(v.version()).build());
    }

    @Override
    public void list(ListSharedRequest r, StreamObserver<ListSharedResponse> out) {
        answer(out, () -> {
            Optional<SharedStore.Kind> kind = switch (r.getKind()) {
                case SHARED_KIND_UNSPECIFIED -> Optional.empty();
                case SHARED_KIND_VALUE -> Optional.of(SharedStore.Kind.VALUE);
                case SHARED_KIND_DICT -> Optional.of(SharedStore.Kind.DICT);
                case SHARED_KIND_LIST -> Optional.of(SharedStore.Kind.LIST);
                case SHARED_KIND_ARRAY -> Optional.of(SharedStore.Kind.ARRAY);
                case UNRECOGNIZED -> throw new InvalidArgument("kind", "is not a kind this server knows");
            };
            return store.list(kind);
        }, all -> {
            var page = PageTokens.page(all, i -> i.name(), r.getPageSize(), 1000, r.getPageToken(),
                    "shared|" + r.getKind());
            var b = ListSharedResponse.newBuilder();
            page.nextPageToken().ifPresent(b::setNextPageToken);
            for (var i : page.items()) {
                b.addObjects(SharedInfo.newBuilder().setName(i.name()).setKind(proto(i.kind()))
                        .setSize(i.size()).setVersion(i.version()));
            }
            return b.build();
        });
    }

    @Override
    public void delete(DeleteSharedRequest r, StreamObserver<DeleteSharedResponse> out) {
        answer(out, () -> store.delete(r.getName()), kind -> DeleteSharedResponse.newBuilder().setKind(proto(kind)).build());
    }

    @Override
    public void watch(WatchSharedRequest r, StreamObserver<WatchSharedResponse> out) {
        try {
            WatchAdmission.Ticket ticket = watches.admit(Optional.ofNullable(Metadata.SESSION_ID.get()),
                    SharedWatcher.BUFFER_BYTES, "shared object \"" + r.getName() + "\"");
            try {
                new SharedWatcher((ServerCallStreamObserver<WatchSharedResponse>) out, executor, ticket)
                        .start(store, r.getName(), r.hasKey() ? Optional.of(r.getKey()) : Optional.empty());
            } catch (RuntimeException e) {
                ticket.close();
                throw e;
            }
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
        }
    }

    /**
     * Runs {@code operation} on the store and answers its {@code encode}d result once what it changed
     * or saw is committed, so an answered change survives a crash of the server. Nothing blocks: a
     * commit still to come answers from its callback, on the executor (not the store's writer).
     */
    private <R, T> void answer(StreamObserver<T> out, Supplier<R> operation, Function<R, T> encode) {
        SharedStore.Kept<R> kept;
        try {
            kept = store.kept(operation);
        } catch (RuntimeException e) {
            out.onError(ErrorMapper.toStatus(e));
            return;
        }
        if (kept.committed().isDone()) {
            reply(out, kept, encode);
        } else {
            kept.committed().whenCompleteAsync((ok, failed) -> reply(out, kept, encode), executor);
        }
    }

    private static <R, T> void reply(StreamObserver<T> out, SharedStore.Kept<R> kept, Function<R, T> encode) {
        Calls.unary(out, () -> {
            try {
                kept.committed().join();
            } catch (CompletionException | CancellationException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                throw new Unavailable("STATE_STORE_UNAVAILABLE", "what this call changed or read could not be kept"
                        + " in the state store, so a restart may undo it: " + cause.getMessage());
            }
            return encode.apply(kept.result());
        });
    }

    // ---- conversions -------------------------------------------------------------------------

    static Scalar scalar(String field, boolean present, dev.forkd.v1.Scalar s) {
        if (!present) {
            throw new InvalidArgument(field, "is required");
        }
        return switch (s.getKindCase()) {
            case INT64_VALUE -> new Scalar.Int64(s.getInt64Value());
            case DOUBLE_VALUE -> new Scalar.Float64(s.getDoubleValue());
            case BOOL_VALUE -> new Scalar.Bool(s.getBoolValue());
            case STRING_VALUE -> new Scalar.Text(s.getStringValue());
            case BYTES_VALUE -> new Scalar.Bytes(s.getBytesValue().toByteArray());
            case KIND_NOT_SET -> throw new InvalidArgument(field, "must hold an int64, double, bool, string or bytes");
        };
    }

    static dev.forkd.v1.Scalar proto(Scalar s) {
        var b = dev.forkd.v1.Scalar.newBuilder();
        return switch (s) {
            case Scalar.Int64 i -> b.setInt64Value(i.value()).build();
            case Scalar.Float64 d -> b.setDoubleValue(d.value()).build();
            case Scalar.Bool x -> b.setBoolValue(x.value()).build();
            case Scalar.Text t -> b.setStringValue(t.value()).build();
            case Scalar.Bytes y -> b.setBytesValue(ByteString.copyFrom(y.value())).build();
        };
    }

    /** An array's type, as its zero. */
    static Scalar zero(ScalarType t) {
        return switch (t) {
            case SCALAR_TYPE_INT64 -> new Scalar.Int64(0);
            case SCALAR_TYPE_DOUBLE -> new Scalar.Float64(0);
            case SCALAR_TYPE_BOOL -> new Scalar.Bool(false);
            case SCALAR_TYPE_STRING -> new Scalar.Text("");
            case SCALAR_TYPE_BYTES -> new Scalar.Bytes(new byte[0]);
            case SCALAR_TYPE_UNSPECIFIED, UNRECOGNIZED ->
                    throw new InvalidArgument("type", "is required: int64, double, bool, string or bytes");
        };
    }

    static ScalarType type(Scalar zero) {
        return switch (zero) {
            case Scalar.Int64 i -> ScalarType.SCALAR_TYPE_INT64;
            case Scalar.Float64 d -> ScalarType.SCALAR_TYPE_DOUBLE;
            case Scalar.Bool x -> ScalarType.SCALAR_TYPE_BOOL;
            case Scalar.Text t -> ScalarType.SCALAR_TYPE_STRING;
            case Scalar.Bytes y -> ScalarType.SCALAR_TYPE_BYTES;
        };
    }

    static SharedKind proto(SharedStore.Kind k) {
        return SharedKind.valueOf("SHARED_KIND_" + k.name());
    }
}
