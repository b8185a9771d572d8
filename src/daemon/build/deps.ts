import type { BuildCache } from '../../builder/cache.ts';
import type { ContainerDeps } from '../containers/deps.ts';
import type { ImageServiceDeps } from '../images/deps.ts';

/** What the build services need; cmd/berthd.ts wires the concrete backends. */
export interface BuildServiceDeps {
  images: ImageServiceDeps;
  containers: ContainerDeps;
  cache: BuildCache;
  /** Where build contexts are unpacked (<dataRoot>/builds); swept at startup. */
  buildsDir: string;
  /** Persistent `RUN --mount=type=cache` directories. */
  cacheMountsDir: string;
  /** Where image views for `RUN --mount=type=bind,from=` are mounted (on the exec root). */
  viewMountsDir: string;
}
