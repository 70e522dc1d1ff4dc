/**
 * Failures that stop every read alike: no sign-in, a Graph endpoint refused, the time budget gone.
 * They are said as they are, not as "X could not be read (…)", so every source and every user that
 * hit them share one cause, which the unverified policy states once per run.
 */
const RUN_WIDE = [/^could not sign in: /, /^no Azure credential gave a token/, / is refused: .*No request was sent\./, /^ARM_ENVIRONMENT is '/, /is not a URL\.$/];

/** Why a fact is unknown: the failure itself when it is run-wide, else which read failed and why. */
export function causeFor(what: string, reason: string): string {
    return RUN_WIDE.some((pattern) => pattern.test(reason)) ? reason : `${what} could not be read (${reason})`;
}
