package app

// Setup is the onboarding and configuration service: it changes what
// Lanyard knows (identities and their enrolment and renewal, connected
// accounts and their drafts, templates and verification, imports, team
// registries, organization sync, stack sets, preferences). It signs in
// only through the sessions, whose credentials it uses to reach AWS; an
// edit drops the sessions it invalidates.
type Setup struct {
	*core
	sessions *Sessions
}
