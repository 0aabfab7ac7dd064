package dev.forkd.agent;

import java.time.Duration;

import dev.forkd.agent.v1.SignalChild;
import dev.forkd.agent.v1.SupervisorMessage;
import dev.forkd.agent.v1.WriteChildStdin;

/** Hands each supervisor command to the part that does it; never blocks on a child. */
public final class CommandDispatcher {
    private final ChildLauncher launcher;
    private final ChildSignals signals;
    private final OutputPump pump;
    private final AgentStop stop;

    CommandDispatcher(ChildLauncher launcher, ChildSignals signals, OutputPump pump, AgentStop stop) {
        this.launcher = launcher;
        this.signals = signals;
        this.pump = pump;
        this.stop = stop;
    }

    public void handle(SupervisorMessage message) {
        switch (message.getCommandCase()) {
            case START -> launcher.start(message.getStart());
            case SIGNAL -> {
                SignalChild signal = message.getSignal();
                signals.signal(new ChildKey(signal.getProcessId(), signal.getRun()), signal.getSignal());
            }
            case STDIN -> {
                WriteChildStdin stdin = message.getStdin();
                try {
                    pump.writeStdin(new ChildKey(stdin.getProcessId(), stdin.getRun()), stdin.getData(),
                            stdin.getClose());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            case HOLD_OUTPUT -> pump.hold(new ChildKey(message.getHoldOutput().getProcessId(),
                    message.getHoldOutput().getRun()), message.getHoldOutput().getHold());
            case SHUTDOWN -> stop.shutdownRequested(grace(message.getShutdown().getGrace()));
            case ACCEPTED -> { } // taken by the connection, which ends the orphan grace
            // A command from a newer supervisor that this agent does not know: ignored.
            case COMMAND_NOT_SET -> { }
        }
    }

    /** The supervisor's stream ended; clean when it completed it rather than failed. */
    public void supervisorGone(boolean clean) {
        stop.supervisorGone(clean);
    }

    /** The shutdown grace, never negative: a negative or out-of-range Duration from the wire means none. */
    private static Duration grace(com.google.protobuf.Duration d) {
        if (d.getSeconds() < 0 || d.getNanos() < 0 || d.getSeconds() > 86_400) {
            return d.getSeconds() > 86_400 ? Duration.ofDays(1) : Duration.ZERO;
        }
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }
}
