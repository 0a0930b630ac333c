package deploy

import (
	"bytes"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/rmb"
)

func TestSealOpenData(t *testing.T) {
	owner, other := secp256k1.GenPrivKey(), secp256k1.GenPrivKey()
	pub, err := rmb.E2EPublicKey(owner)
	require.NoError(t, err)
	file := []byte(`{"version": 0, "workloads": []}` + "\n" + string(bytes.Repeat([]byte(" "), 500)))

	sealed, err := SealData(pub, file)
	require.NoError(t, err)
	require.Less(t, len(sealed), len(file), "compressed before it is encrypted")
	require.Equal(t, "TFDD\x01", string(sealed[:5]))

	plain, err := OpenData(owner, sealed)
	require.NoError(t, err)
	require.Equal(t, file, plain, "byte-identical")

	_, err = OpenData(other, sealed)
	require.ErrorIs(t, err, ErrNotYourKey)

	again, err := SealData(pub, file)
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh ephemeral key and nonce each time")

	tampered := bytes.Clone(sealed)
	tampered[6] ^= 1 // inside the ephemeral key: associated data
	_, err = OpenData(owner, tampered)
	require.Error(t, err)

	wrongVersion := bytes.Clone(sealed)
	wrongVersion[4] = 2
	_, err = OpenData(owner, wrongVersion)
	require.ErrorContains(t, err, "version 2")

	_, err = OpenData(owner, []byte("plain json"))
	require.ErrorContains(t, err, "header")

	_, err = SealData([]byte{1, 2, 3}, file)
	require.ErrorContains(t, err, "e2e key")
}

func TestCheckDataSize(t *testing.T) {
	require.NoError(t, CheckDataSize(make([]byte, 100), 100))
	require.EqualError(t, CheckDataSize(make([]byte, 130), 100),
		"the encrypted deployment is 130 bytes, 30 more than the chain's max_deployment_data_bytes 100: shorten the file (descriptions, metadata, environment)")
}
