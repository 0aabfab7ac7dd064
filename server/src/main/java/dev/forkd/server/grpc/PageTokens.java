package dev.forkd.server.grpc;

import dev.forkd.server.error.ForkdException.InvalidArgument;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Opaque page tokens for every List RPC (AIP-158): a token carries where the next page starts and a
 * fingerprint of the list and filter it was made for, so a token reused with another filter, or on
 * another list, is INVALID_ARGUMENT instead of silently skipping or repeating results.
 */
public final class PageTokens {

    private static final String VERSION = "1";
    private static final int MAX_TOKEN = 1024;

    private PageTokens() {}

    /**
     * The token that resumes after {@code position}.
     *
     * @param filter the list's name and every filter field, in a fixed order (e.g. "processes|RUNNING|web|")
     */
    public static String next(String filter, String position) {
        String plain = VERSION + "\n" + fingerprint(filter) + "\n" + position;
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    }

    /** Where the page starts: empty for the first page, else the position the token carries. */
    public static Optional<String> after(String token, String filter) {
        if (token.isEmpty()) {
            return Optional.empty();
        }
        String plain;
        try {
            if (token.length() > MAX_TOKEN) {
                throw new IllegalArgumentException("too long");
            }
            plain = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgument("page_token", "is not a token this server gave");
        }
        String[] parts = plain.split("\n", 3);
        if (parts.length != 3 || !parts[0].equals(VERSION)) {
            throw new InvalidArgument("page_token", "is not a token this server gave");
        }
        if (!parts[1].equals(fingerprint(filter))) {
            throw new InvalidArgument("page_token", "was given for another list or filter; repeat the filter of "
                    + "the call that returned it, or start again without a token");
        }
        return Optional.of(parts[2]);
    }

    /** {@link #after} for lists that resume after a sequence number; 0 is the first page. */
    public static long afterSeq(String token, String filter) {
        Optional<String> at = after(token, filter);
        if (at.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(at.get());
        } catch (NumberFormatException e) {
            throw new InvalidArgument("page_token", "is not a token this server gave");
        }
    }

    /** One page of a list. */
    public record Page<T>(java.util.List<T> items, Optional<String> nextPageToken) {}

    /**
     * A page of a whole list (bounded by its table's limit) ordered by a unique key: the items after
     * the token's key, at most {@code pageSize} (0: {@code maxPage}).
     */
    public static <T> Page<T> page(java.util.Collection<T> all, java.util.function.Function<T, String> key,
            int pageSize, int maxPage, String token, String filter) {
        if (pageSize < 0 || pageSize > maxPage) {
            throw new InvalidArgument("page_size", "must be between 0 (default " + maxPage + ") and " + maxPage);
        }
        int size = pageSize == 0 ? maxPage : pageSize;
        Optional<String> after = after(token, filter);
        java.util.List<T> sorted = all.stream()
                .filter(t -> after.isEmpty() || key.apply(t).compareTo(after.get()) > 0)
                .sorted(java.util.Comparator.comparing(key))
                .limit(size + 1L)
                .toList();
        if (sorted.size() <= size) {
            return new Page<>(sorted, Optional.empty());
        }
        java.util.List<T> items = sorted.subList(0, size);
        return new Page<>(items, Optional.of(next(filter, key.apply(items.getLast()))));
    }

    private static String fingerprint(String filter) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(filter.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
