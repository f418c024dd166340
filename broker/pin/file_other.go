//go:build !unix

package pin

const openFlags = 0
