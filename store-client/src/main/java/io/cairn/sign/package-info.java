/**
 * Signed tags (Ed25519, via Bouncy Castle). Nouns: a <em>signing key</em> ({@link
 * io.cairn.sign.SigningKey}) is a publisher's private key, kept in a key file; its <em>verifying
 * key</em> ({@link io.cairn.sign.VerifyingKey}) is the public half, named by a <em>key id</em>
 * ({@link io.cairn.sign.KeyId}, the first 8 bytes of the SHA-256 of the 32-byte public key). A
 * <em>signature</em> ({@link io.cairn.sign.ImageSignature}) vouches that one image digest was
 * published under one tag; the exact bytes signed are the <em>payload</em> ({@link
 * io.cairn.sign.SignedPayload}, format in docs/design.md). A host's <em>trust set</em> ({@link
 * io.cairn.sign.TrustSet}) is the verifying keys it accepts; with one, a pull of {@code name:tag}
 * needs a valid signature by a trusted key over the digest the tag resolves to and that tag.
 */
package io.cairn.sign;
