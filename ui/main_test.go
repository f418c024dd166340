package ui

import (
	"testing"

	"github.com/lanyard-app/lanyard/broker/p11/p11test"
)

// The demo worlds of these tests put their key on a token of the test
// process's own SoftHSM.
func TestMain(m *testing.M) { p11test.Main(m) }
