package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// knownKeys lists the keys each table accepts, from the struct tags.
var knownKeys = map[string][]string{
	"":            tomlKeys(Config{}),
	"preferences": tomlKeys(Preferences{}),
	"identity":    tomlKeys(Identity{}),
	"account":     tomlKeys(Account{}),
	"registry":    tomlKeys(Registry{}),
}

func tomlKeys(v any) []string {
	t := reflect.TypeOf(v)
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		keys = append(keys, name)
	}
	return keys
}

// unknownKey explains an undecoded key, suggesting the known key it most
// likely misspells.
func unknownKey(k toml.Key) string {
	msg := fmt.Sprintf("unknown key %s", clip(strconv.Quote(k.String())))
	switch strings.ReplaceAll(strings.ToLower(k[len(k)-1]), "-", "_") {
	case "external_id", "externalid":
		return msg + " (ExternalIds are secrets and live in the OS keyring: remove this line and give the value to `lanyard account add --external-id`)"
	case "pin", "pin_value", "aws_secret_access_key", "aws_session_token", "secret_access_key", "session_token":
		return msg + " (secrets never go in this file: remove this line)"
	}
	table := strings.Join(k[:len(k)-1], ".")
	best, bestDist := "", 3
	for _, known := range knownKeys[table] {
		if d := editDistance(k[len(k)-1], known); d < bestDist {
			best, bestDist = known, d
		}
	}
	if best != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + " (misspelt, or for a newer Lanyard?)"
}

// editDistance is the Levenshtein distance, capped by the key lengths here.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
