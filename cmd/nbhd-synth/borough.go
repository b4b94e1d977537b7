package main

import (
	"context"
	"io"
)

func cmdBorough(_ context.Context, args []string, stdout, stderr io.Writer) error {
	return usageError{"borough: not built yet"}
}
