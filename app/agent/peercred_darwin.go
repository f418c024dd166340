package agent

import "golang.org/x/sys/unix"

const isLinux = false

// socketPeerUID reads LOCAL_PEERCRED. This file cannot run in the Linux CI;
// it is vetted with GOOS=darwin.
func socketPeerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
