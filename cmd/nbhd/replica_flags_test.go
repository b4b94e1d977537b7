package main

import (
	"strings"
	"testing"
)

func TestServeRefusesBadScaleOutFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--purge-url", "cdn.example/purge"}, "--purge-url"},
		{[]string{"--purge-url", "https://cdn.example/purge", "--purge-header", "no colon"}, "--purge-header"},
		{[]string{"--pmtiles-url", "nbhd.pmtiles"}, "--pmtiles-url"},
		{[]string{"--max-replica-lag", "0s"}, "--max-replica-lag"},
		{[]string{"--cache-s-maxage", "-1s"}, "--cache-s-maxage"},
	} {
		code, _, stderr := nbhd(t, append([]string{"serve"}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %v: %d %q", tc.args, code, stderr)
		}
	}
}
