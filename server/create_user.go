package main

import (
	"context"
	"errors"
	"io"
)

// createUserCmd is implemented with the accounts service.
func createUserCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return errors.New("create-user: not implemented yet")
}
