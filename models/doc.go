// Package models holds Kabar's GORM row structs, one file per table family.
// Rows carry no JSON tags: they never reach a client; handlers map them to DTOs.
package models
