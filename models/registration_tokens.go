package models

// RegistrationToken is a token for the m.login.registration_token stage
// created through the admin API (client-server-api "Token-authenticated
// registration"). Pending counts registrations that have claimed the token
// but not finished; Completed counts accounts made with it.
type RegistrationToken struct {
	Token string
	// UsesAllowed is nil for unlimited uses.
	UsesAllowed *int64
	Pending     int64
	Completed   int64
	// ExpiryTime is ms since the epoch, nil for never.
	ExpiryTime *int64
}

func (RegistrationToken) TableName() string { return "registration_tokens" }
