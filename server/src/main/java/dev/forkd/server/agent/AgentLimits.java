package dev.forkd.server.agent;

import dev.forkd.server.limits.ResourceLimits;

/**
 * The core's limits as the public {@code ResourceLimits} message: what the agent protocol carries, and
 * what a process's info shows clients.
 */
public final class AgentLimits {

    private AgentLimits() {}

    public static dev.forkd.v1.ResourceLimits toProto(ResourceLimits l) {
        var b = dev.forkd.v1.ResourceLimits.newBuilder();
        l.openFiles().ifPresent(b::setOpenFiles);
        l.addressSpaceBytes().ifPresent(b::setAddressSpaceBytes);
        l.cpuSeconds().ifPresent(b::setCpuSeconds);
        l.coreBytes().ifPresent(b::setCoreBytes);
        l.processes().ifPresent(b::setProcesses);
        l.memoryMaxBytes().ifPresent(b::setMemoryMaxBytes);
        l.cpuMax().ifPresent(b::setCpuMax);
        l.pidsMax().ifPresent(b::setPidsMax);
        return b.build();
    }
}
