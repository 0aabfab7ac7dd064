package dev.forkd.server.agent;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The secret of each agent the supervisor launched (or adopted from the previous supervisor on its
 * state directory), bound to its agent id and pid. An agent gets its secret on an inherited pipe; a
 * registration must present it. Only its SHA-256 is held (and kept in the store), so the secret
 * itself is never written anywhere. An id is good for one registration with this supervisor: a
 * second one under a spent id is refused even after the first went away (the agent then stops its
 * children and exits, and is replaced). Bounded by the agents launched or adopted and not yet ended.
 */
public final class AgentCredentials {

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Expected> expected = new ConcurrentHashMap<>();

    private record Expected(byte[] secretSha256, int pid, boolean registered) {}

    /** Why a registration was refused. */
    public enum Refusal { UNKNOWN_AGENT, WRONG_SECRET, WRONG_PID, ALREADY_REGISTERED }

    /** A fresh secret (192 random bits, hex). */
    public String newSecret() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** The launcher started {@code agentId} as {@code pid} and handed it {@code secret}. */
    public void expect(String agentId, int pid, String secret) {
        expected.put(agentId, new Expected(sha256(secret), pid, false));
    }

    /** An agent the previous supervisor launched, still alive as {@code pid}, may register with its secret. */
    public void adopt(String agentId, int pid, byte[] secretSha256) {
        expected.put(agentId, new Expected(secretSha256.clone(), pid, false));
    }

    /** The SHA-256 of a secret, as it is compared and kept. */
    public static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** The agent's process ended: its id is never accepted again. */
    public void forget(String agentId) {
        expected.remove(agentId);
    }

    /**
     * Checks a registration and, if it is good, spends the id. Empty when accepted.
     */
    public java.util.Optional<Refusal> admit(String agentId, int pid, String secret) {
        Refusal[] refusal = {Refusal.UNKNOWN_AGENT};
        expected.computeIfPresent(agentId, (id, e) -> {
            refusal[0] = null;
            if (!MessageDigest.isEqual(e.secretSha256(), sha256(secret))) {
                refusal[0] = Refusal.WRONG_SECRET;
                return e;
            }
            if (e.registered()) {
                refusal[0] = Refusal.ALREADY_REGISTERED;
                return e;
            }
            if (e.pid() != pid) {
                refusal[0] = Refusal.WRONG_PID;
                return e;
            }
            return new Expected(e.secretSha256(), e.pid(), true);
        });
        return java.util.Optional.ofNullable(refusal[0]);
    }
}
