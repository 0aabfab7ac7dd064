package dev.forkd.server.agent;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.forkd.agent.v1.StoredAgent;
import dev.forkd.agent.v1.StoredAgentChannel;
import dev.forkd.posix.ProcChildren;
import dev.forkd.server.store.StateStore;
import dev.forkd.server.store.StoreRow;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Logger;

/**
 * What the supervisor keeps about its agents so that the next one on the same state directory can
 * re-adopt them: each agent's id, pid, start time and the SHA-256 of its secret (kind {@value #KIND}),
 * and the token of the agent channel (kind {@value #CHANNEL_KIND}), which the agents dial back with.
 */
public final class AgentRecords {

    static final String KIND = "agent";
    static final String CHANNEL_KIND = "agent-channel";
    private static final String CHANNEL_KEY = "token";
    private static final Logger LOG = Logger.getLogger(AgentRecords.class.getName());

    private final StateStore store;

    public AgentRecords(StateStore store) {
        this.store = store;
    }

    /**
     * The agent channel's token: the kept one, so that agents launched by an earlier supervisor can
     * dial this one, or a new one (then kept).
     */
    public String channelToken() {
        for (StoreRow row : store.load(CHANNEL_KIND)) {
            try {
                String token = StoredAgentChannel.parseFrom(row.value()).getToken();
                if (token.length() >= 32) {
                    return token;
                }
            } catch (InvalidProtocolBufferException e) {
                LOG.warning("the kept agent channel token does not decode; making a new one");
            }
        }
        String token = HexFormat.of().formatHex(new SecureRandom().generateSeed(24));
        if (store.keeps()) {
            store.put(CHANNEL_KIND, CHANNEL_KEY, StoredAgentChannel.newBuilder().setToken(token).build().toByteArray())
                    .join(); // before any agent holds it: a crash right after must not strand them
        }
        return token;
    }

    /** The supervisor launched {@code agentId} as {@code pid} with {@code secret}. */
    public void launched(String agentId, int pid, String secret) {
        if (store.keeps()) {
            store.put(KIND, agentId, StoredAgent.newBuilder().setAgentId(agentId).setPid(pid)
                    .setSecretSha256(ByteString.copyFrom(AgentCredentials.sha256(secret)))
                    .setStartTicks(ProcChildren.startTicksOf(pid)).build().toByteArray());
        }
    }

    /** The agent's process ended: nothing of it is left to adopt. */
    public void ended(String agentId) {
        if (store.keeps()) {
            store.delete(KIND, agentId);
        }
    }

    /**
     * The agents an earlier supervisor launched that still run (same pid, same start time); the
     * records of the others are removed.
     */
    public List<StoredAgent> alive() {
        List<StoredAgent> out = new ArrayList<>();
        for (StoreRow row : store.load(KIND)) {
            StoredAgent agent;
            try {
                agent = StoredAgent.parseFrom(row.value());
            } catch (InvalidProtocolBufferException e) {
                LOG.warning("skipping agent record " + row.key() + " that does not decode");
                store.delete(KIND, row.key());
                continue;
            }
            long ticks = ProcChildren.startTicksOf(agent.getPid());
            if (ticks >= 0 && ticks == agent.getStartTicks()) {
                out.add(agent);
            } else {
                store.delete(KIND, row.key());
            }
        }
        return out;
    }
}
