// Names that mark what a build leaves behind, shared by the runner and the start-up sweep. A module
// of its own so that berthd's start-up (sweep.ts) does not load the builder (~5 MB resident).

/** Snapshot keys of the read-only views RUN mounts use; a crash's leftovers are swept at startup. */
export const VIEW_KEY_PREFIX = 'build-view-';
/** Label on RUN containers, so that those of a build cut short by a crash are removed at startup. */
export const STEP_LABEL = 'com.berth.build-step';
