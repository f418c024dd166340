package awsenv

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// closedAfterReadBody plays the SDK's request body once the SDK has closed
// it: Read still gives the bytes, WriteTo says io.EOF.
type closedAfterReadBody struct{ *bytes.Reader }

func (closedAfterReadBody) Close() error                     { return nil }
func (closedAfterReadBody) WriteTo(io.Writer) (int64, error) { return 0, io.EOF }

// A request body whose WriteTo says io.EOF must not make net/http tear the
// connection down under the answer: through the guard, every large answer
// arrives whole.
func TestARequestBodyClosedEarlyDoesNotCutTheAnswer(t *testing.T) {
	t.Parallel()
	answer := strings.Repeat("x", 256<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	client := Resolver{}.Guard(&http.Client{Transport: &http.Transport{}})
	for i := range 20 {
		form := "Action=ListStackInstances&Version=2010-05-15"
		req, err := http.NewRequest(http.MethodPost, srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Body, req.ContentLength = closedAfterReadBody{bytes.NewReader([]byte(form))}, int64(len(form))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(got) != len(answer) {
			t.Fatalf("request %d: read %d of %d bytes: %v", i, len(got), len(answer), err)
		}
	}
}
