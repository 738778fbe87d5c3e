/**
 * Limits on what a run may be given, shared by the page and the CLI so both refuse the same inputs.
 */

/**
 * The largest text or pairs file accepted (20 MiB): the page refuses bigger uploads (a browser tab training
 * on them would crawl) and the CLI refuses bigger `--text` / `--pairs` files before reading them.
 */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
