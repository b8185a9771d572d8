import { NotFound } from '../../lib/errors.ts';
import { familiarName, parseNormalizedNamed } from '../../store/images/reference.ts';

/**
 * Placeholder until the registry client lands: answer a pull the way dockerd answers a repository
 * it cannot reach (404 before any stream, so `docker run` reports it cleanly).
 */
export async function pullUnavailable(params: { fromImage: string; tag?: string }): Promise<never> {
  const name = familiarName(parseNormalizedNamed(params.fromImage));
  throw new NotFound(`pull access denied for ${name}, repository does not exist or may require 'docker login': no registry configured`);
}
