// Package credserver serves temporary AWS credentials to a child process
// through the container credentials protocol every AWS SDK already speaks
// (AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
// and AWS_CONTAINER_AUTHORIZATION_TOKEN for the SDKs that read only that, such
// as the AWS CLI v2.9 and boto3 1.26). It backs `lanyard exec`.
//
// The endpoint is reachable only from this machine and only by a process that
// holds the token (the child, through its environment or the token file):
//
//   - it binds 127.0.0.1 with a kernel-chosen port, never another interface;
//   - the URL carries a random path, and every request must present a random
//     token, also in a 0600 file in a fresh 0700 directory; it lives only as
//     long as the endpoint (one child's run);
//   - the token is compared in constant time;
//   - the Host header must name the loopback address and port, so a web page
//     that rebinds its DNS name to 127.0.0.1 cannot read credentials;
//   - the peer address must be a loopback address.
//
// Credentials come from the provider on every request: pass a cached provider
// (aws.CredentialsCache or the session broker) so refreshing happens upstream
// and the SDK in the child refreshes by simply asking again.
package credserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Environment variable names the SDKs read.
const (
	EnvFullURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	EnvToken     = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
)

// ShadowingVariables are the variables that would make an SDK in the child use
// other credentials than the endpoint's (they take precedence over the
// container provider, or point it elsewhere). ChildEnv removes them.
var ShadowingVariables = []string{
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION",
	"AWS_PROFILE",
	"AWS_DEFAULT_PROFILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	EnvToken,
	EnvFullURI,
	EnvTokenFile,
}

// Options adjust Start.
type Options struct {
	// TempDir is where the token directory is created; empty means os.TempDir().
	TempDir string
}

// Server is a running credentials endpoint.
type Server struct {
	provider  aws.CredentialsProvider
	listener  net.Listener
	http      *http.Server
	path      string
	port      string
	token     []byte
	dir       string
	tokenFile string
	served    chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Start binds the endpoint on 127.0.0.1 and writes its token file. Stop it
// with Close, which also removes the token file. ctx only bounds start-up.
func Start(ctx context.Context, provider aws.CredentialsProvider, opts Options) (*Server, error) {
	if provider == nil {
		return nil, errors.New("credentials endpoint: no credentials provider")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	pathBytes := make([]byte, 16)
	// crypto/rand.Read never fails (it crashes the program instead).
	rand.Read(secret)
	rand.Read(pathBytes)
	s := &Server{
		provider: provider,
		token:    []byte(hex.EncodeToString(secret)),
		path:     "/creds/" + hex.EncodeToString(pathBytes),
		served:   make(chan struct{}),
	}

	dir, err := os.MkdirTemp(opts.TempDir, "lanyard-exec-")
	if err != nil {
		return nil, fmt.Errorf("credentials endpoint: cannot create the token directory: %w", err)
	}
	// MkdirTemp already uses 0700; Chmod guards against an odd umask-free platform default.
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("credentials endpoint: cannot protect the token directory: %w", err)
	}
	s.dir = dir
	s.tokenFile = filepath.Join(dir, "token")
	if err := writeNew(s.tokenFile, s.token); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("credentials endpoint: cannot write the token file: %w", err)
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("credentials endpoint: cannot listen on 127.0.0.1: %w", err)
	}
	s.listener = ln
	s.port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// Credentials never take long to serve from a warm cache, but a
		// cold one may wait for a PIN dialog: no write timeout.
		IdleTimeout: time.Minute,
	}
	go func() {
		defer close(s.served)
		s.http.Serve(ln)
	}()
	return s, nil
}

func writeNew(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// URL is the endpoint's full URI (AWS_CONTAINER_CREDENTIALS_FULL_URI).
func (s *Server) URL() string {
	return "http://127.0.0.1:" + s.port + s.path
}

// TokenFile is the path of the file holding the authorization token.
func (s *Server) TokenFile() string { return s.tokenFile }

// Env is the environment a child needs to use the endpoint, as NAME=value
// entries: the token both as a file and as a value, since some SDKs read
// only the one and some only the other. Combine it with ChildEnv to also
// drop shadowing variables.
func (s *Server) Env() []string {
	return []string{EnvFullURI + "=" + s.URL(), EnvTokenFile + "=" + s.tokenFile, EnvToken + "=" + string(s.token)}
}

// Close stops the endpoint and removes the token file and its directory.
// Requests in flight are cut off: the child is gone by then.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.http.Close()
		<-s.served
		if rmErr := os.RemoveAll(s.dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("credentials endpoint: cannot remove the token directory: %w", rmErr))
		}
		s.closeErr = err
	})
	return s.closeErr
}

// ChildEnv returns base without ShadowingVariables, followed by the
// endpoint's variables and then extra (NAME=value entries, e.g. AWS_REGION).
func (s *Server) ChildEnv(base, extra []string) []string {
	drop := make(map[string]bool, len(ShadowingVariables))
	for _, name := range ShadowingVariables {
		drop[name] = true
	}
	env := make([]string, 0, len(base)+2+len(extra))
	for _, kv := range base {
		name := kv
		if i := strings.IndexByte(kv, '='); i > 0 {
			name = kv[:i]
		}
		if !drop[envKey(name)] {
			env = append(env, kv)
		}
	}
	env = append(env, s.Env()...)
	return append(env, extra...)
}

// errorBody is the error document the SDKs parse from a non-2xx response.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// credentialsBody is the success document (protocol.md §5).
type credentialsBody struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

// ServeHTTP answers one credentials request after checking who asks.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !s.loopbackPeer(r.RemoteAddr) {
		writeError(w, http.StatusForbidden, "Forbidden", "requests are accepted from this machine only")
		return
	}
	if !s.validHost(r.Host) {
		writeError(w, http.StatusForbidden, "Forbidden", "the Host header must name 127.0.0.1 or localhost with the endpoint's port")
		return
	}
	if r.URL.Path != s.path {
		writeError(w, http.StatusNotFound, "NotFound", "no credentials at this path")
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only GET is supported")
		return
	}
	given := r.Header.Get("Authorization")
	if given == "" {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "missing authorization token")
		return
	}
	if subtle.ConstantTimeCompare([]byte(given), s.token) != 1 {
		writeError(w, http.StatusForbidden, "Forbidden", "wrong authorization token")
		return
	}
	creds, err := s.provider.Retrieve(r.Context())
	if err != nil {
		// The provider's messages are written for the user and carry no secret.
		writeError(w, http.StatusServiceUnavailable, "CredentialsUnavailable", err.Error())
		return
	}
	body := credentialsBody{
		AccessKeyID:     creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey,
		Token:           creds.SessionToken,
	}
	if creds.CanExpire {
		body.Expiration = creds.Expires.UTC().Format(time.RFC3339)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) loopbackPeer(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) validHost(host string) bool {
	return host == "127.0.0.1:"+s.port || host == "localhost:"+s.port
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorBody{Code: code, Message: message})
}
