package migrations

import "gorm.io/gorm"

// Frozen row shapes of migration 5: federation (remote server keys, outbound
// queues, inbound transaction IDs). Do not change; add a new migration instead.

type serverKeyV5 struct {
	ServerName   string `gorm:"primaryKey;size:255"`
	KeyID        string `gorm:"primaryKey;size:255"`
	PublicKey    string `gorm:"size:64;not null"`
	ValidUntilTS int64  `gorm:"not null;default:0"`
	ExpiredTS    int64  `gorm:"not null;default:0"`
	FetchedAt    int64  `gorm:"not null"`
	Response     string `gorm:"type:text;not null;default:''"`
}

func (serverKeyV5) TableName() string { return "federation_server_keys" }

type queueEntryV5 struct {
	ID          int64  `gorm:"primaryKey;autoIncrement;index:idx_federation_queue_dest,priority:2"`
	Destination string `gorm:"size:255;not null;index:idx_federation_queue_dest,priority:1"`
	Kind        string `gorm:"size:8;not null"`
	Payload     string `gorm:"type:text;not null"`
	CreatedAt   int64  `gorm:"not null"`
}

func (queueEntryV5) TableName() string { return "federation_queue" }

type inboundTxnV5 struct {
	Origin    string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	Response  string `gorm:"type:text;not null"`
	CreatedAt int64  `gorm:"not null;index"`
}

func (inboundTxnV5) TableName() string { return "federation_inbound_txns" }

func federationV5(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&serverKeyV5{}, &queueEntryV5{}, &inboundTxnV5{})
}
