import * as assert from "node:assert/strict";
import { GuestProfile, guestKindOf } from "../../../policies/inventory/guestKind";

/** A regular work account as Graph returns it with `$select=userType,creationType,externalUserState,identities,userPrincipalName`. */
const internalMember: GuestProfile = {
    userType: "Member",
    creationType: null,
    externalUserState: null,
    identities: [{ signInType: "userPrincipalName", issuer: "contoso.onmicrosoft.com" }],
    userPrincipalName: "alice@contoso.onmicrosoft.com",
};

/** An invited user from another tenant who accepted. */
const invitedGuest: GuestProfile = {
    userType: "Guest",
    creationType: "Invitation",
    externalUserState: "Accepted",
    identities: [{ signInType: "federated", issuer: "ExternalAzureAD" }],
    userPrincipalName: "dave_fabrikam.com#EXT#@contoso.onmicrosoft.com",
};

describe("guestKindOf", () => {
    it("calls a regular work account a member", () => {
        assert.equal(guestKindOf(internalMember), "member");
    });

    it("calls a Guest-typed account with no external identity an internal guest", () => {
        assert.equal(guestKindOf({ ...internalMember, userType: "Guest" }), "internalGuest");
    });

    it("calls an invited Guest a B2B collaboration guest", () => {
        assert.equal(guestKindOf(invitedGuest), "b2bCollaborationGuest");
    });

    it("calls an invited user turned Member a B2B collaboration member", () => {
        assert.equal(guestKindOf({ ...invitedGuest, userType: "Member" }), "b2bCollaborationMember");
    });

    it("takes any one sign of an external identity as enough", () => {
        const signs: Partial<GuestProfile>[] = [
            { externalUserState: "PendingAcceptance" },
            { creationType: "Invitation" },
            { creationType: "SelfServiceSignUp" },
            { userPrincipalName: "dave_fabrikam.com#ext#@contoso.onmicrosoft.com" },
            { identities: [{ signInType: "federated", issuer: "MicrosoftAccount" }] },
        ];
        for (const sign of signs) {
            assert.equal(guestKindOf({ ...internalMember, userType: "Guest", ...sign }), "b2bCollaborationGuest", JSON.stringify(sign));
            assert.equal(guestKindOf({ ...internalMember, ...sign }), "b2bCollaborationMember", JSON.stringify(sign));
        }
    });

    it("takes an empty string from a provider as Graph's null", () => {
        assert.equal(guestKindOf({ userType: "Member", creationType: "", externalUserState: "" }), "member");
    });

    it("keeps local and email-verified accounts internal", () => {
        assert.equal(guestKindOf({ ...internalMember, creationType: "LocalAccount" }), "member");
        assert.equal(guestKindOf({ ...internalMember, userType: "Guest", creationType: "EmailVerified" }), "internalGuest");
    });

    it("reads userType and creationType whatever their case", () => {
        assert.equal(guestKindOf({ ...invitedGuest, userType: "guest", creationType: "invitation", externalUserState: null }), "b2bCollaborationGuest");
    });

    it("cannot tell an internal account when creationType or externalUserState was not read", () => {
        assert.equal(guestKindOf({ userType: "Member", userPrincipalName: "alice@contoso.onmicrosoft.com" }), "unknown");
        assert.equal(guestKindOf({ ...internalMember, creationType: undefined }), "unknown");
        assert.equal(guestKindOf({ ...internalMember, userType: "Guest", externalUserState: undefined }), "unknown");
    });

    it("cannot tell the kind of a user without a known userType", () => {
        assert.equal(guestKindOf({ ...invitedGuest, userType: undefined }), "unknown");
        assert.equal(guestKindOf({ ...internalMember, userType: "unknownFutureValue" }), "unknown");
    });
});
