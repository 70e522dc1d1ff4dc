import { GuestKind } from "./types";

/** The user properties that tell a guest or external user apart, as Graph names them. */
export interface GuestProfile {
    userType?: string;
    /** `null` (or `""`) when Graph says the account is a regular one; `undefined` when not read. */
    creationType?: string | null;
    /** `null` (or `""`) when Graph says the account was never invited; `undefined` when not read. */
    externalUserState?: string | null;
    identities?: { signInType?: string; issuer?: string }[];
    userPrincipalName?: string;
}

// Accounts made for someone who signs in elsewhere: invited (B2B), or signed up through a user flow
// (https://learn.microsoft.com/graph/api/resources/user, creationType).
const EXTERNAL_CREATION_TYPES = new Set(["invitation", "selfservicesignup"]);

/**
 * Which of Conditional Access's user kinds a user is, following Microsoft's definitions
 * (https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-users-groups):
 * an external identity with `userType` Guest is a B2B collaboration guest, with Member a B2B
 * collaboration member; without one, Guest is an internal guest and Member a member.
 *
 * External evidence is any of: an `externalUserState`, a `creationType` of Invitation or
 * SelfServiceSignUp, a UPN holding `#EXT#`, or a federated identity. Its absence is only believed
 * when both `creationType` and `externalUserState` were read (`null` counts as read); otherwise,
 * and for any other `userType`, the answer is `"unknown"`.
 *
 * For example:
 *
 *     guestKindOf({ userType: "Guest", externalUserState: "Accepted" }); // "b2bCollaborationGuest"
 *     guestKindOf({ userType: "Member", creationType: null, externalUserState: null }); // "member"
 *     guestKindOf({ userType: "Member" }); // "unknown"
 */
export function guestKindOf(profile: GuestProfile): GuestKind {
    const userType = profile.userType?.toLowerCase();
    if (userType !== "guest" && userType !== "member") return "unknown";
    if (hasExternalIdentity(profile)) return userType === "guest" ? "b2bCollaborationGuest" : "b2bCollaborationMember";
    if (profile.creationType === undefined || profile.externalUserState === undefined) return "unknown";
    return userType === "guest" ? "internalGuest" : "member";
}

function hasExternalIdentity(profile: GuestProfile): boolean {
    return (
        !!profile.externalUserState ||
        (!!profile.creationType && EXTERNAL_CREATION_TYPES.has(profile.creationType.toLowerCase())) ||
        (profile.userPrincipalName?.toUpperCase().includes("#EXT#") ?? false) ||
        (profile.identities ?? []).some((identity) => identity.signInType?.toLowerCase() === "federated")
    );
}
