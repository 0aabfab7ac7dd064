package dev.forkd.server.process;

/** Why an agent could not start a child, as the agent reported it. */
public record StartError(Kind kind, String message) {

    public enum Kind { NOT_FOUND, NOT_EXECUTABLE, BAD_CWD, RESOURCES, OTHER }
}
