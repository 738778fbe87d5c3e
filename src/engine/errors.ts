/**
 * Errors a person can cause (a bad file, an impossible model, a learning rate that diverges) carry a code
 * and its parameters beside the English message, so a page in another language can say the same thing in
 * its own words (its dictionary's `error.<code>`); the message is the fallback and what the CLI prints.
 */
export type ErrorParams = Record<string, string | number>;

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly params: ErrorParams = {},
  ) {
    super(message);
  }
}
