package models

// Rows of the end-to-end encryption support (client-server-api "End-to-End
// Encryption"): device and one-time keys, cross-signing keys and signatures,
// the device-list change stream, to-device inboxes and key backups. Key
// material is stored as the JSON the client uploaded, because signatures
// cover that exact object.

// DeviceKeys is the signed identity-key object of one device (local, or a
// cached remote one).
type DeviceKeys struct {
	UserID   string `gorm:"primaryKey;size:255"`
	DeviceID string `gorm:"primaryKey;size:255"`
	KeyJSON  string `gorm:"type:text;not null"`
}

func (DeviceKeys) TableName() string { return "e2ee_device_keys" }

// OneTimeKey is an unclaimed one-time key. Batch orders claims by upload
// (keys uploaded in one call are equivalent).
type OneTimeKey struct {
	UserID    string `gorm:"primaryKey;size:255;index:idx_e2ee_otk_claim,priority:1"`
	DeviceID  string `gorm:"primaryKey;size:255;index:idx_e2ee_otk_claim,priority:2"`
	KeyID     string `gorm:"primaryKey;size:255"` // "<algorithm>:<id>"
	Algorithm string `gorm:"size:255;not null;index:idx_e2ee_otk_claim,priority:3"`
	Batch     int64  `gorm:"not null;index:idx_e2ee_otk_claim,priority:4"`
	KeyJSON   string `gorm:"type:text;not null"`
}

func (OneTimeKey) TableName() string { return "e2ee_one_time_keys" }

// FallbackKey is a device's fallback key for one algorithm; Used is set once
// it has been claimed (reported to the client in /sync).
type FallbackKey struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	Algorithm string `gorm:"primaryKey;size:255"`
	KeyID     string `gorm:"size:255;not null"`
	KeyJSON   string `gorm:"type:text;not null"`
	Used      bool   `gorm:"not null;default:false"`
}

func (FallbackKey) TableName() string { return "e2ee_fallback_keys" }

// CrossSigningKey is one of a user's cross-signing keys; KeyType is
// "master", "self_signing" or "user_signing"; PublicKey is the unpadded
// base64 ed25519 key (the key ID without "ed25519:").
type CrossSigningKey struct {
	UserID    string `gorm:"primaryKey;size:255"`
	KeyType   string `gorm:"primaryKey;size:32"`
	PublicKey string `gorm:"size:255;not null"`
	KeyJSON   string `gorm:"type:text;not null"`
}

func (CrossSigningKey) TableName() string { return "e2ee_cross_signing_keys" }

// CrossSigningSignature is a signature uploaded via /keys/signatures/upload
// on a device key or cross-signing key (TargetKeyID is a device ID or a
// public key).
type CrossSigningSignature struct {
	TargetUserID string `gorm:"primaryKey;size:255"`
	TargetKeyID  string `gorm:"primaryKey;size:255"`
	SignerUserID string `gorm:"primaryKey;size:255"`
	SignerKeyID  string `gorm:"primaryKey;size:255"` // "ed25519:<id>"
	Signature    string `gorm:"size:255;not null"`
}

func (CrossSigningSignature) TableName() string { return "e2ee_cross_signing_sigs" }

// DeviceListChange records that a user's devices or keys changed at a global
// stream position (/sync device_lists, /keys/changes, m.device_list_update
// stream_id/prev_id).
type DeviceListChange struct {
	StreamPos int64  `gorm:"primaryKey;autoIncrement:false;index:idx_e2ee_dls_user,priority:2"`
	UserID    string `gorm:"primaryKey;size:255;index:idx_e2ee_dls_user,priority:1"`
	DeviceID  string `gorm:"size:255;not null;default:''"`
	// RoomID and Membership are set for a join to or departure from an
	// encrypted room (at event stream position EventPos) instead of a
	// device change.
	RoomID     string `gorm:"size:255;not null;default:''"`
	Membership string `gorm:"size:32;not null;default:''"`
	EventPos   int64  `gorm:"not null;default:0"`
}

func (DeviceListChange) TableName() string { return "e2ee_device_list_stream" }

// RemoteDeviceList tracks a remote user's device list as last learned over
// federation: the stream_id of the newest update applied, and whether a gap
// was seen so the list must be resynced via /user/devices.
type RemoteDeviceList struct {
	UserID   string `gorm:"primaryKey;size:255"`
	StreamID int64  `gorm:"not null;default:0"`
	Stale    bool   `gorm:"not null;default:false"`
}

func (RemoteDeviceList) TableName() string { return "e2ee_remote_device_lists" }

// ToDeviceMessage is one message in a device's inbox, kept until the device
// acknowledges a sync token at or past StreamPos.
type ToDeviceMessage struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	StreamPos int64  `gorm:"primaryKey;autoIncrement:false"`
	Sender    string `gorm:"size:255;not null"`
	Type      string `gorm:"size:255;not null"`
	Content   string `gorm:"type:text;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (ToDeviceMessage) TableName() string { return "e2ee_to_device" }

// ToDeviceTxn remembers a processed /sendToDevice transaction ID of a device.
type ToDeviceTxn struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	StreamPos int64  `gorm:"not null;default:0"`
	CreatedAt int64  `gorm:"not null"`
}

func (ToDeviceTxn) TableName() string { return "e2ee_to_device_txns" }

// KeyBackupVersion is one server-side key backup of a user. A deleted
// version keeps its row (Deleted) so version numbers are never reused.
type KeyBackupVersion struct {
	UserID    string `gorm:"primaryKey;size:255"`
	Version   int64  `gorm:"primaryKey;autoIncrement:false"`
	Algorithm string `gorm:"size:255;not null"`
	AuthData  string `gorm:"type:text;not null"`
	Etag      int64  `gorm:"not null;default:0"`
	Deleted   bool   `gorm:"not null;default:false"`
}

func (KeyBackupVersion) TableName() string { return "e2ee_backup_versions" }

// KeyBackupSession is one backed-up megolm session key.
type KeyBackupSession struct {
	UserID            string `gorm:"primaryKey;size:255"`
	Version           int64  `gorm:"primaryKey;autoIncrement:false"`
	RoomID            string `gorm:"primaryKey;size:255"`
	SessionID         string `gorm:"primaryKey;size:255"`
	FirstMessageIndex int64  `gorm:"not null"`
	ForwardedCount    int64  `gorm:"not null"`
	IsVerified        bool   `gorm:"not null"`
	SessionData       string `gorm:"type:text;not null"`
}

func (KeyBackupSession) TableName() string { return "e2ee_backup_sessions" }

// RemoteKeyCache is the last answer of a remote server's /user/keys/query
// for one of its users (server-server-api "End-to-End Encryption": servers
// should cache remote keys). The maps are stored as the JSON the remote
// server sent; the row is dropped when the user's device list or signing
// keys change, or when the list is marked stale.
type RemoteKeyCache struct {
	UserID         string `gorm:"primaryKey;size:255"`
	DeviceKeys     string `gorm:"type:text;not null"` // {"<device_id>": DeviceKeys, ...}
	MasterKey      string `gorm:"type:text;not null;default:''"`
	SelfSigningKey string `gorm:"type:text;not null;default:''"`
	FetchedAt      int64  `gorm:"not null"`
}

func (RemoteKeyCache) TableName() string { return "e2ee_remote_key_cache" }
