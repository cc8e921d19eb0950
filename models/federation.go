package models

// ServerKey is a remote server's ed25519 verify key as we last fetched it
// (server-server-api "Retrieving server keys"). ValidUntilTS is the response's
// valid_until_ts for current keys; ExpiredTS is set for old_verify_keys.
// PublicKey is unpadded base64. Response is the whole signed key response
// it came from, which a notary serves again ("Querying Keys Through Another
// Server").
type ServerKey struct {
	ServerName   string `gorm:"primaryKey;size:255"`
	KeyID        string `gorm:"primaryKey;size:255"`
	PublicKey    string `gorm:"size:64;not null"`
	ValidUntilTS int64  `gorm:"not null;default:0"`
	ExpiredTS    int64  `gorm:"not null;default:0"`
	FetchedAt    int64  `gorm:"not null"`
	Response     string `gorm:"type:text;not null;default:''"`
}

func (ServerKey) TableName() string { return "federation_server_keys" }

// QueueEntry is one PDU or EDU waiting to be sent to a destination server.
// Kind is "pdu" (Payload is the event ID) or "edu" (Payload is the EDU JSON).
// Rows are deleted only once the destination acknowledged the transaction.
type QueueEntry struct {
	ID          int64  `gorm:"primaryKey;autoIncrement"`
	Destination string `gorm:"size:255;not null"`
	Kind        string `gorm:"size:8;not null"`
	Payload     string `gorm:"type:text;not null"`
	CreatedAt   int64  `gorm:"not null"`
}

func (QueueEntry) TableName() string { return "federation_queue" }

// InboundTxn remembers a processed transaction from a remote server and the
// response we gave, so a retried PUT /send/{txnId} is answered, not replayed.
type InboundTxn struct {
	Origin    string `gorm:"primaryKey;size:255"`
	TxnID     string `gorm:"primaryKey;size:255"`
	Response  string `gorm:"type:text;not null"`
	CreatedAt int64  `gorm:"not null"`
}

func (InboundTxn) TableName() string { return "federation_inbound_txns" }
