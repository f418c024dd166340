package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lanyard-app/lanyard/broker/pin"
)

// pty is a Linux pseudo-terminal: the prompter gets its terminal side, the
// test types on the other side and reads what the prompter wrote there.
type pty struct {
	t      *testing.T
	master *os.File
	name   string
	// probe is a terminal side the test keeps open, to read the terminal's
	// mode; it also keeps the master readable between prompts.
	probe *os.File

	mu  sync.Mutex
	out bytes.Buffer
}

func newPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n int
	if err := control(master, func(fd int) error {
		if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
			return err
		}
		n, err = unix.IoctlGetInt(fd, unix.TIOCGPTN)
		return err
	}); err != nil {
		master.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	p := &pty{t: t, master: master, name: fmt.Sprintf("/dev/pts/%d", n)}
	if p.probe, err = p.open(); err != nil {
		master.Close()
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.probe.Close()
		master.Close()
	})
	return p
}

// open opens the terminal side, as the prompter opens /dev/tty.
func (p *pty) open() (*os.File, error) {
	return os.OpenFile(p.name, os.O_RDWR|syscall.O_NOCTTY, 0)
}

// prompter is a terminal prompter on this pty with the real signal set.
func (p *pty) prompter() *terminalPrompter {
	tp := newTerminalPrompter()
	tp.open = p.open
	return tp
}

func (p *pty) typeKeys(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

// output is everything the prompter wrote, echoes included.
func (p *pty) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// lflag is the terminal's local mode (ECHO, ICANON, ISIG).
func (p *pty) lflag() uint32 {
	p.t.Helper()
	var tio *unix.Termios
	if err := control(p.probe, func(fd int) error {
		var err error
		tio, err = unix.IoctlGetTermios(fd, unix.TCGETS)
		return err
	}); err != nil {
		p.t.Fatal(err)
	}
	return tio.Lflag
}

// waitRaw waits until the prompt is shown and echo is off: the prompter is
// reading.
func (p *pty) waitRaw(prompt string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.output(), prompt) || p.lflag()&unix.ECHO != 0 {
		if time.Now().After(deadline) {
			p.t.Fatalf("the prompter never started reading with echo off; terminal shows %q", p.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// restored fails unless the terminal is back in the mode it had before.
func (p *pty) restored(before uint32) {
	p.t.Helper()
	if got := p.lflag(); got != before || got&unix.ECHO == 0 {
		p.t.Fatalf("terminal mode after the prompt: lflag %#x, before %#x (echo on: %v)", got, before, got&unix.ECHO != 0)
	}
}

type pinAnswer struct {
	pin string
	err error
}

func (p *pty) ask(ctx context.Context, tp *terminalPrompter, req pin.Request) <-chan pinAnswer {
	ch := make(chan pinAnswer, 1)
	go func() {
		s, err := tp.PIN(ctx, req)
		ch <- pinAnswer{s, err}
	}()
	return ch
}

func wait(t *testing.T, ch <-chan pinAnswer) pinAnswer {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt did not return")
		return pinAnswer{}
	}
}

var demoRequest = pin.Request{TokenLabel: "demo", Certificate: "CN=alice"}

func TestTerminalPromptReadsWithoutEchoAndRestores(t *testing.T) {
	p := newPTY(t)
	before := p.lflag()
	ch := p.ask(context.Background(), p.prompter(), demoRequest)
	p.waitRaw(`PIN for token "demo" (certificate CN=alice): `)
	// A typo corrected with Backspace, then Enter (a raw terminal sends \r).
	p.typeKeys("12x\x7f34\r")
	a := wait(t, ch)
	if a.err != nil || a.pin != "1234" {
		t.Fatalf("PIN = %q, %v; want 1234", a.pin, a.err)
	}
	p.restored(before)
	if out := p.output(); strings.Contains(out, "12") || strings.Contains(out, "34") {
		t.Fatalf("the PIN was echoed: %q", out)
	}
}

func TestTerminalPromptCtrlCCancelsAndRestores(t *testing.T) {
	p := newPTY(t)
	before := p.lflag()
	ch := p.ask(context.Background(), p.prompter(), demoRequest)
	p.waitRaw("PIN for token")
	p.typeKeys("12\x03")
	if a := wait(t, ch); !errors.Is(a.err, pin.ErrCancelled) || a.pin != "" {
		t.Fatalf("Ctrl-C: PIN %q, %v; want pin.ErrCancelled", a.pin, a.err)
	}
	p.restored(before)
}

// TestTerminalPromptSignalCancelsAndRestores sends the process a real
// SIGINT (as `kill -INT` or a Ctrl-C before raw mode would): the prompt is
// cancelled with the terminal restored, and the process lives on.
func TestTerminalPromptSignalCancelsAndRestores(t *testing.T) {
	p := newPTY(t)
	before := p.lflag()
	ch := p.ask(context.Background(), p.prompter(), demoRequest)
	p.waitRaw("PIN for token")
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if a := wait(t, ch); !errors.Is(a.err, pin.ErrCancelled) {
		t.Fatalf("SIGINT: PIN %q, %v; want pin.ErrCancelled", a.pin, a.err)
	}
	p.restored(before)
}

// TestTerminalPromptContextEndRestoresAndLeavesNoReader cancels a prompt
// (the agent's client gave up): the terminal is restored, and the next
// prompt gets the next line — no reader of the first one is left to eat it.
func TestTerminalPromptContextEndRestoresAndLeavesNoReader(t *testing.T) {
	p := newPTY(t)
	before := p.lflag()
	tp := p.prompter()
	ctx, cancel := context.WithCancel(context.Background())
	ch := p.ask(ctx, tp, demoRequest)
	p.waitRaw("PIN for token")
	cancel()
	if a := wait(t, ch); !errors.Is(a.err, context.Canceled) {
		t.Fatalf("cancelled prompt: PIN %q, %v", a.pin, a.err)
	}
	p.restored(before)

	ch = p.ask(context.Background(), tp, pin.Request{TokenLabel: "demo", PreviousFailed: true})
	p.waitRaw("The previous PIN was wrong.")
	p.typeKeys("5678\r")
	if a := wait(t, ch); a.err != nil || a.pin != "5678" {
		t.Fatalf("second prompt: PIN %q, %v; want 5678", a.pin, a.err)
	}
	p.restored(before)
}
