//go:build linux && cgo

package ui

// #include <malloc.h>
import "C"

// trimCHeap hands the C heap's free pages back to the system: the GL
// driver and the window system free a closed window's buffers with
// glibc's malloc, which keeps them otherwise.
func trimCHeap() { C.malloc_trim(0) }
