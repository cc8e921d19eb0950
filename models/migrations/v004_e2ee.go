package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 4: end-to-end encryption. Do not change;
// add a new migration instead.

type deviceKeysV4 struct {
	UserID   string `gorm:"primaryKey;size:255"`
	DeviceID string `gorm:"primaryKey;size:255"`
	KeyJSON  string `gorm:"type:text;not null"`
}

func (deviceKeysV4) TableName() string { return "e2ee_device_keys" }

type oneTimeKeyV4 struct {
	UserID    string `gorm:"primaryKey;size:255;index:idx_e2ee_otk_claim,priority:1"`
	DeviceID  string `gorm:"primaryKey;size:255;index:idx_e2ee_otk_claim,priority:2"`
	KeyID     string `gorm:"primaryKey;size:255"` // "<algorithm>:<id>"
	Algorithm string `gorm:"size:255;not null;index:idx_e2ee_otk_claim,priority:3"`
	Batch     int64  `gorm:"not null;index:idx_e2ee_otk_claim,priority:4"`
	KeyJSON   string `gorm:"type:text;not null"`
}

func (oneTimeKeyV4) TableName() string { return "e2ee_one_time_keys" }

type fallbackKeyV4 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	Algorithm string `gorm:"primaryKey;size:255"`
	KeyID     string `gorm:"size:255;not null"`
	KeyJSON   string `gorm:"type:text;not null"`
	Used      bool   `gorm:"not null;default:false"`
}

func (fallbackKeyV4) TableName() string { return "e2ee_fallback_keys" }

type crossSigningKeyV4 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	KeyType   string `gorm:"primaryKey;size:32"`
	PublicKey string `gorm:"size:255;not null"`
	KeyJSON   string `gorm:"type:text;not null"`
}

func (crossSigningKeyV4) TableName() string { return "e2ee_cross_signing_keys" }

type crossSigningSignatureV4 struct {
	TargetUserID string `gorm:"primaryKey;size:255"`
	TargetKeyID  string `gorm:"primaryKey;size:255"`
	SignerUserID string `gorm:"primaryKey;size:255"`
	SignerKeyID  string `gorm:"primaryKey;size:255"` // "ed25519:<id>"
	Signature    string `gorm:"size:255;not null"`
}

func (crossSigningSignatureV4) TableName() string { return "e2ee_cross_signing_sigs" }

type deviceListChangeV4 struct {
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

func (deviceListChangeV4) TableName() string { return "e2ee_device_list_stream" }

type remoteDeviceListV4 struct {
	UserID   string `gorm:"primaryKey;size:255"`
	StreamID int64  `gorm:"not null;default:0"`
	Stale    bool   `gorm:"not null;default:false"`
}

func (remoteDeviceListV4) TableName() string { return "e2ee_remote_device_lists" }

type toDeviceMessageV4 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	StreamPos int64  `gorm:"primaryKey;autoIncrement:false"`
	Sender    string `gorm:"size:255;not null"`
	Type      string `gorm:"size:255;not null"`
	Content   string `gorm:"type:text;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (toDeviceMessageV4) TableName() string { return "e2ee_to_device" }

type toDeviceTxnV4 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	DeviceID  string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	StreamPos int64  `gorm:"not null;default:0"`
	CreatedAt int64  `gorm:"not null"`
}

func (toDeviceTxnV4) TableName() string { return "e2ee_to_device_txns" }

type keyBackupVersionV4 struct {
	UserID    string `gorm:"primaryKey;size:255"`
	Version   int64  `gorm:"primaryKey;autoIncrement:false"`
	Algorithm string `gorm:"size:255;not null"`
	AuthData  string `gorm:"type:text;not null"`
	Etag      int64  `gorm:"not null;default:0"`
	Deleted   bool   `gorm:"not null;default:false"`
}

func (keyBackupVersionV4) TableName() string { return "e2ee_backup_versions" }

type keyBackupSessionV4 struct {
	UserID            string `gorm:"primaryKey;size:255"`
	Version           int64  `gorm:"primaryKey;autoIncrement:false"`
	RoomID            string `gorm:"primaryKey;size:255"`
	SessionID         string `gorm:"primaryKey;size:255"`
	FirstMessageIndex int64  `gorm:"not null"`
	ForwardedCount    int64  `gorm:"not null"`
	IsVerified        bool   `gorm:"not null"`
	SessionData       string `gorm:"type:text;not null"`
}

func (keyBackupSessionV4) TableName() string { return "e2ee_backup_sessions" }

func e2eeV4(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&deviceKeysV4{}, &oneTimeKeyV4{}, &fallbackKeyV4{}, &crossSigningKeyV4{}, &crossSigningSignatureV4{}, &deviceListChangeV4{}, &remoteDeviceListV4{}, &toDeviceMessageV4{}, &toDeviceTxnV4{}, &keyBackupVersionV4{}, &keyBackupSessionV4{})
}
