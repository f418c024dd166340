package agent

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Request and response bodies. Paths are versioned so a CLI and an agent of
// different releases fail clearly rather than misread each other.
const (
	pathPing        = "/v1/ping"
	pathCredentials = "/v1/credentials"
	pathEnv         = "/v1/env"
	pathConsole     = "/v1/console"
	pathToken       = "/v1/token"
	pathStatus      = "/v1/status"
	pathLock        = "/v1/lock"
)

// headerConfig carries the client's ConfigKey on every request.
const headerConfig = "Lanyard-Config"

// maxBody bounds request and response bodies: all are small.
const maxBody = 1 << 20

type pingResponse struct {
	PID       int    `json:"pid"`
	Version   string `json:"version"`
	ConfigDir string `json:"configDir"`
}

type accountRequest struct {
	Account string `json:"account"`
}

type credentialsResponse struct {
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken,omitempty"`
	Source          string    `json:"Source,omitempty"`
	CanExpire       bool      `json:"CanExpire"`
	Expires         time.Time `json:"Expires"`
	AccountID       string    `json:"AccountId,omitempty"`
}

func toWire(c aws.Credentials) credentialsResponse {
	return credentialsResponse{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		SessionToken:    c.SessionToken,
		Source:          c.Source,
		CanExpire:       c.CanExpire,
		Expires:         c.Expires,
		AccountID:       c.AccountID,
	}
}

func (r credentialsResponse) credentials() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     r.AccessKeyID,
		SecretAccessKey: r.SecretAccessKey,
		SessionToken:    r.SessionToken,
		Source:          r.Source,
		CanExpire:       r.CanExpire,
		Expires:         r.Expires,
		AccountID:       r.AccountID,
	}
}

type envRequest struct {
	Account string `json:"account"`
	Format  string `json:"format"`
}

type consoleRequest struct {
	Account     string `json:"account"`
	Destination string `json:"destination,omitempty"`
	Region      string `json:"region,omitempty"`
}

type tokenRequest struct {
	Account   string            `json:"account"`
	Audience  []string          `json:"audience"`
	Algorithm string            `json:"algorithm,omitempty"`
	Duration  time.Duration     `json:"duration,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
}

type textResponse struct {
	Text string `json:"text"`
}

type tokenResponse struct {
	JWT     string    `json:"jwt"`
	Expires time.Time `json:"expires"`
}
