package rmb

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	dsecp "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// HKDF info strings (rmb/README.md, "End-to-end encryption").
const (
	E2EKeyInfo    = "tfgrid-e2e-v1"     // account key -> e2e key
	E2ECipherInfo = "tfgrid-rmb-e2e-v1" // ECDH x-coordinate -> AES-256 key
	aadPrefix     = "tfgrid-rmb-aad-v1"
	NonceLen      = 12
)

// DeriveE2EKey derives a twin's end-to-end encryption key from its account private key:
// HKDF-SHA256(ikm = the 32-byte account key, no salt, info "tfgrid-e2e-v1") → 32 bytes, read as a
// big-endian integer reduced modulo the curve order. One mnemonic therefore restores both keys, and the
// two are never equal.
func DeriveE2EKey(account *secp256k1.PrivKey) (*secp256k1.PrivKey, error) {
	if account == nil || len(account.Key) != 32 {
		return nil, errors.New("derive e2e key: the account private key must be 32 bytes")
	}
	okm, err := hkdf.Key(sha256.New, account.Key, nil, E2EKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive e2e key: %w", err)
	}
	k := dsecp.PrivKeyFromBytes(okm) // reduces modulo N
	if k.Key.IsZero() {
		return nil, errors.New("derive e2e key: derived scalar is zero") // probability ~2^-256
	}
	b := k.Key.Bytes()
	return &secp256k1.PrivKey{Key: b[:]}, nil
}

// E2EPublicKey is the 33-byte compressed public key of DeriveE2EKey(account): the value to register as
// the twin's e2e_key (`tfgridd tx tfgrid create-twin --e2e-key HEX`).
func E2EPublicKey(account *secp256k1.PrivKey) ([]byte, error) {
	k, err := DeriveE2EKey(account)
	if err != nil {
		return nil, err
	}
	return k.PubKey().Bytes(), nil
}

// AAD is the associated data of an encrypted payload: it binds the ciphertext to the envelope's uid,
// source and destination, so it cannot be replayed under another envelope.
//
//	"tfgrid-rmb-aad-v1" || u16be(len uid) || uid || u64be(src twin) || u16be(len src session) ||
//	src session || u64be(dst twin) || u16be(len dst session) || dst session
func AAD(uid string, src, dst Address) []byte {
	b := make([]byte, 0, len(aadPrefix)+2+len(uid)+2*(10+MaxSessionLen))
	b = append(b, aadPrefix...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(uid)))
	b = append(b, uid...)
	for _, a := range []Address{src, dst} {
		b = binary.BigEndian.AppendUint64(b, a.Twin)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a.Session)))
		b = append(b, a.Session...)
	}
	return b
}

// SharedAEAD derives the AES-256-GCM key shared by priv and pub: ECDH on secp256k1 (the x-coordinate
// of priv·pub, 32 bytes) → HKDF-SHA256(no salt, info "tfgrid-rmb-e2e-v1") → 32 bytes.
func SharedAEAD(priv *secp256k1.PrivKey, pub *PubKey) (cipher.AEAD, error) {
	if priv == nil || len(priv.Key) != 32 || pub == nil {
		return nil, errors.New("e2e: a 32-byte private key and a public key are required")
	}
	sk := dsecp.PrivKeyFromBytes(priv.Key)
	x := dsecp.GenerateSharedSecret(sk, pub)
	key, err := hkdf.Key(sha256.New, x, nil, E2ECipherInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext: nonce (12 random bytes) || AES-256-GCM(ciphertext || tag).
func Seal(aead cipher.AEAD, aad, plaintext []byte) ([]byte, error) {
	out := make([]byte, NonceLen, NonceLen+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out[:NonceLen]); err != nil {
		return nil, fmt.Errorf("e2e: nonce: %w", err)
	}
	return aead.Seal(out, out[:NonceLen], plaintext, aad), nil
}

// Open decrypts what Seal produced; the error is a CodeCannotDecrypt *Error.
func Open(aead cipher.AEAD, aad, sealed []byte) ([]byte, error) {
	if len(sealed) < NonceLen+aead.Overhead() {
		return nil, Errorf(CodeCannotDecrypt, "cipher is %d bytes, shorter than nonce and tag (%d)", len(sealed), NonceLen+aead.Overhead())
	}
	pt, err := aead.Open(nil, sealed[:NonceLen], sealed[NonceLen:], aad)
	if err != nil {
		return nil, Errorf(CodeCannotDecrypt, "authentication failed (wrong key, or payload, uid, source or destination altered)")
	}
	return pt, nil
}

// SealEphemeral encrypts for pub with a fresh key pair and returns the cipher and the ephemeral public
// key (33 bytes) to put in the envelope's ephemeral_key.
func SealEphemeral(pub *PubKey, aad, plaintext []byte) (sealed, ephemeral []byte, err error) {
	eph := secp256k1.GenPrivKey()
	aead, err := SharedAEAD(eph, pub)
	if err != nil {
		return nil, nil, err
	}
	sealed, err = Seal(aead, aad, plaintext)
	if err != nil {
		return nil, nil, err
	}
	return sealed, eph.PubKey().Bytes(), nil
}
