package models

// AdminUser is a user joined with its profile, for the admin API.
type AdminUser struct {
	User        `gorm:"embedded"`
	DisplayName string
	AvatarURL   string
}

// UserQuery selects users for the admin user list.
type UserQuery struct {
	From, Limit int
	// Name matches a substring of the user ID or display name,
	// case-insensitively; "" matches everyone.
	Name        string
	Guests      bool
	Deactivated bool
}
