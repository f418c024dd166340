package ui

import (
	"fyne.io/fyne/v2/widget"

	"github.com/lanyard-app/lanyard/app"
)

// roleFields are the Roles Anywhere settings a new identity needs (trust
// anchor, profile, role), with "Set up like", which copies an existing
// identity's: the Add identity and Enroll identity windows both ask them.
type roleFields struct {
	trustAnchor, profile, role *widget.Entry
	like                       *widget.Select
	identities                 []app.EnrollBase
	// copied gets the region of the identity copied: one window shows it
	// in a field, the other keeps it for the request.
	copied func(region string)
}

func newRoleFields(copied func(region string)) *roleFields {
	f := &roleFields{trustAnchor: widget.NewEntry(), profile: widget.NewEntry(), role: widget.NewEntry(), copied: copied}
	f.trustAnchor.SetPlaceHolder("arn:aws:rolesanywhere:REGION:ACCOUNT:trust-anchor/…")
	f.profile.SetPlaceHolder("arn:aws:rolesanywhere:REGION:ACCOUNT:profile/…")
	f.role.SetPlaceHolder("arn:aws:iam::ACCOUNT:role/…")
	f.like = widget.NewSelect(nil, f.copyFrom)
	f.like.PlaceHolder = "type them, or copy an identity's"
	return f
}

// setIdentities offers ids to copy from and copies the first, the likely
// choice.
func (f *roleFields) setIdentities(ids []app.EnrollBase) {
	f.identities = ids
	var names []string
	for _, id := range ids {
		names = append(names, id.Name)
	}
	f.like.SetOptions(names)
	if len(names) > 0 {
		f.like.SetSelected(names[0])
	}
}

// copyFrom fills the fields with the named identity's settings.
func (f *roleFields) copyFrom(name string) {
	for _, id := range f.identities {
		if id.Name == name {
			f.trustAnchor.SetText(id.TrustAnchorARN)
			f.profile.SetText(id.ProfileARN)
			f.role.SetText(id.RoleARN)
			f.copied(id.Region)
		}
	}
}
