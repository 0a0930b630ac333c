package deployment

import (
	"fmt"
)

// ZMount is a raw disk attached to a machine (type "zmount").
type ZMount struct {
	// Size in bytes.
	Size uint64 `json:"size"`
}

func (z *ZMount) validate(name string) error { return checkPositive(name, "size", z.Size) }

// capacity: the disk lives on SSD.
func (z *ZMount) capacity() Capacity { return Capacity{SRU: z.Size} }

// Volume is a filesystem shared into machines (type "volume").
type Volume struct {
	// Size in bytes.
	Size uint64 `json:"size"`
}

func (v *Volume) validate(name string) error { return checkPositive(name, "size", v.Size) }

// capacity: the volume lives on SSD.
func (v *Volume) capacity() Capacity { return Capacity{SRU: v.Size} }

// ZDB modes.
const (
	ZDBModeUser = "user"
	ZDBModeSeq  = "seq"
)

// ZDB is a 0-db namespace (type "zdb").
type ZDB struct {
	// Size in bytes.
	Size     uint64 `json:"size"`
	Mode     string `json:"mode"`
	Password string `json:"password"`
	Public   bool   `json:"public"`
}

func (z *ZDB) validate(name string) error {
	if err := checkPositive(name, "size", z.Size); err != nil {
		return err
	}
	if z.Mode != ZDBModeUser && z.Mode != ZDBModeSeq {
		return workloadErr(name, "mode", z.Mode, ErrInvalidValue, "is not a zdb mode (%q or %q)", ZDBModeUser, ZDBModeSeq)
	}
	return nil
}

// capacity: zdb namespaces live on HDD.
func (z *ZDB) capacity() Capacity { return Capacity{HRU: z.Size} }

// QSFS is a quantum-safe filesystem backed by remote zdbs, shared into machines (type "qsfs").
type QSFS struct {
	// Cache is the local cache in bytes.
	Cache             uint64          `json:"cache"`
	MinimalShards     uint32          `json:"minimal_shards"`
	ExpectedShards    uint32          `json:"expected_shards"`
	RedundantGroups   uint32          `json:"redundant_groups"`
	RedundantNodes    uint32          `json:"redundant_nodes"`
	MaxZDBDataDirSize uint32          `json:"max_zdb_data_dir_size"`
	Encryption        QSFSEncryption  `json:"encryption"`
	Metadata          QSFSMetadata    `json:"meta"`
	Groups            []QSFSGroup     `json:"groups"`
	Compression       QSFSCompression `json:"compression"`
}

// QSFSEncryption is the algorithm and key the data (or the metadata) is encrypted with.
type QSFSEncryption struct {
	Algorithm string `json:"algorithm"`
	// Key is 32 bytes in hex.
	Key string `json:"key"`
}

// QSFSMetadata is where qsfs keeps its metadata.
type QSFSMetadata struct {
	Type       string         `json:"type"`
	Prefix     string         `json:"prefix"`
	Encryption QSFSEncryption `json:"encryption"`
	Backends   []QSFSBackend  `json:"backends"`
}

// QSFSGroup is a group of zdb backends the data shards spread over.
type QSFSGroup struct {
	Backends []QSFSBackend `json:"backends"`
}

// QSFSBackend is one remote zdb namespace.
type QSFSBackend struct {
	Address   string `json:"address"`
	Namespace string `json:"namespace"`
	Password  string `json:"password"`
}

// QSFSCompression names the compression algorithm.
type QSFSCompression struct {
	Algorithm string `json:"algorithm"`
}

// QSFS algorithms.
const (
	QSFSEncryptionAES = "AES"
	QSFSMetadataZDB   = "zdb"
)

func (q *QSFS) validate(name string) error {
	if err := checkPositive(name, "cache", q.Cache); err != nil {
		return err
	}
	if err := checkPositive(name, "minimal_shards", uint64(q.MinimalShards)); err != nil {
		return err
	}
	if q.MinimalShards > q.ExpectedShards {
		return workloadErr(name, "minimal_shards", q.MinimalShards, ErrInvalidValue,
			"is above expected_shards %d", q.ExpectedShards)
	}
	if err := q.Encryption.validate(name, "encryption"); err != nil {
		return err
	}
	if q.Metadata.Type != QSFSMetadataZDB {
		return workloadErr(name, "meta.type", q.Metadata.Type, ErrInvalidValue, "is not a metadata store (%q)", QSFSMetadataZDB)
	}
	if err := q.Metadata.Encryption.validate(name, "meta.encryption"); err != nil {
		return err
	}
	if err := validateBackends(name, "meta.backends", q.Metadata.Backends); err != nil {
		return err
	}
	if len(q.Groups) == 0 {
		return workloadErr(name, "groups", nil, ErrMissing, "needs at least one group of backends")
	}
	for i, group := range q.Groups {
		if err := validateBackends(name, fmt.Sprintf("groups[%d].backends", i), group.Backends); err != nil {
			return err
		}
	}
	return nil
}

func (e *QSFSEncryption) validate(name, field string) error {
	if e.Algorithm != QSFSEncryptionAES {
		return workloadErr(name, field+".algorithm", e.Algorithm, ErrInvalidValue, "is not an encryption algorithm (%q)", QSFSEncryptionAES)
	}
	return checkHexBytes(name, field+".key", e.Key, 32)
}

func validateBackends(name, field string, backends []QSFSBackend) error {
	if len(backends) == 0 {
		return workloadErr(name, field, nil, ErrMissing, "needs at least one backend")
	}
	for i, b := range backends {
		if _, err := checkHostPort(name, fmt.Sprintf("%s[%d].address", field, i), b.Address, false); err != nil {
			return err
		}
		if err := checkRequired(name, fmt.Sprintf("%s[%d].namespace", field, i), b.Namespace); err != nil {
			return err
		}
	}
	return nil
}

// capacity: Zero-OS counts one core and 1 GiB of memory for the qsfs daemons, and the cache on SSD.
func (q *QSFS) capacity() Capacity { return Capacity{CRU: 1, MRU: GiB, SRU: q.Cache} }
