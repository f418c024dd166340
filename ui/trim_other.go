//go:build !linux || !cgo

package ui

// trimCHeap has nothing to do where the C heap is not glibc's.
func trimCHeap() {}
