package deploy

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"

	"github.com/tfgrid/tfgrid/rmb"
)

// Deployment data is the deployment file sealed to its owner's e2e key, so the chain keeps a copy that
// only the owner can read back:
//
//	"TFDD" || version (1) || ephemeral public key (33) || nonce (12) || AES-256-GCM(deflate(file)) || tag (16)
//
// The AES key is rmb.SharedAEAD(ephemeral private key, twin e2e key): ECDH on secp256k1, then
// HKDF-SHA256. The magic, version and ephemeral key are the associated data, so none can be swapped.
const (
	dataMagic   = "TFDD"
	dataVersion = 1
	ephKeyLen   = 33
	headerLen   = len(dataMagic) + 1 + ephKeyLen
	// maxPlainData bounds what a sealed blob may inflate to (the chain holds at most 64 KiB of it).
	maxPlainData = 4 << 20
)

// ErrNotYourKey: the deployment data was sealed to another twin's key (or altered).
var ErrNotYourKey = errors.New("the deployment data is not encrypted to your key")

// SealData compresses plain and encrypts it to the twin's e2e public key (33-byte compressed).
func SealData(e2ePub, plain []byte) ([]byte, error) {
	pub, err := rmb.ParsePubKey(e2ePub)
	if err != nil {
		return nil, fmt.Errorf("seal deployment data: twin e2e key %x: %w", e2ePub, err)
	}
	var packed bytes.Buffer
	w, err := flate.NewWriter(&packed, flate.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	eph := secp256k1.GenPrivKey()
	aead, err := rmb.SharedAEAD(eph, pub)
	if err != nil {
		return nil, err
	}
	header := append(append([]byte(dataMagic), dataVersion), eph.PubKey().Bytes()...)
	sealed, err := rmb.Seal(aead, header, packed.Bytes())
	if err != nil {
		return nil, err
	}
	return append(header, sealed...), nil
}

// OpenData decrypts deployment data with the owner's account key (its e2e key is derived from it).
func OpenData(account *secp256k1.PrivKey, data []byte) ([]byte, error) {
	if len(data) < headerLen || string(data[:len(dataMagic)]) != dataMagic {
		return nil, fmt.Errorf("deployment data (%d bytes) does not start with the %q header: not written by this client", len(data), dataMagic)
	}
	if v := data[len(dataMagic)]; v != dataVersion {
		return nil, fmt.Errorf("deployment data version %d: this client reads version %d", v, dataVersion)
	}
	eph, err := rmb.ParsePubKey(data[len(dataMagic)+1 : headerLen])
	if err != nil {
		return nil, fmt.Errorf("deployment data: ephemeral key: %w", err)
	}
	e2e, err := rmb.DeriveE2EKey(account)
	if err != nil {
		return nil, err
	}
	aead, err := rmb.SharedAEAD(e2e, eph)
	if err != nil {
		return nil, err
	}
	packed, err := rmb.Open(aead, data[:headerLen], data[headerLen:])
	if err != nil {
		return nil, ErrNotYourKey
	}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(packed)), maxPlainData+1))
	if err != nil {
		return nil, fmt.Errorf("deployment data: inflate: %w", err)
	}
	if len(plain) > maxPlainData {
		return nil, fmt.Errorf("deployment data inflates past %d bytes", maxPlainData)
	}
	return plain, nil
}

// CheckDataSize says by how much sealed data exceeds the chain's max_deployment_data_bytes.
func CheckDataSize(sealed []byte, max uint64) error {
	if uint64(len(sealed)) > max {
		return fmt.Errorf("the encrypted deployment is %d bytes, %d more than the chain's max_deployment_data_bytes %d: "+
			"shorten the file (descriptions, metadata, environment)", len(sealed), uint64(len(sealed))-max, max)
	}
	return nil
}
