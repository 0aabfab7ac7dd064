package dev.forkd.agent;

/** The supervisor's name for one run of a process: its id and run number. */
record ChildKey(String processId, int run) {

    @Override
    public String toString() {
        return processId + "#" + run;
    }
}
