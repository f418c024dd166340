# Installs Lanyard from the release .tar.xz this Makefile came in:
#   sudo make install           into /usr/local
#   make user-install           into ~/.local (no root)
#   make install PREFIX=/opt/lanyard DESTDIR=/tmp/stage
# and `uninstall` / `user-uninstall` remove exactly what they installed.
PREFIX  ?= /usr/local
DESTDIR ?=
ID      := dev.lanyard.Lanyard
ICONS   := $(patsubst share/%,%,$(wildcard share/icons/hicolor/*/apps/$(ID).*))
FILES   := share/applications/$(ID).desktop share/metainfo/$(ID).metainfo.xml \
           share/man/man1/lanyard.1.gz share/man/man1/lanyard-agent.1.gz share/man/man1/lanyard-gui.1.gz \
           share/doc/lanyard/copyright $(addprefix share/,$(ICONS))
root    := $(DESTDIR)$(PREFIX)

.PHONY: install uninstall user-install user-uninstall

install:
	install -Dm0755 bin/lanyard $(root)/bin/lanyard
	install -Dm0755 bin/lanyard-agent $(root)/bin/lanyard-agent
	install -Dm0755 bin/lanyard-gui $(root)/bin/lanyard-gui
	for f in $(FILES); do install -Dm0644 $$f $(root)/$$f || exit 1; done
	@# The login entry starts the tray app from where it was installed.
	install -d $(root)/share/lanyard/autostart
	sed 's|^Exec=.*|Exec=$(PREFIX)/bin/lanyard-gui|' share/lanyard/autostart/$(ID).desktop >$(root)/share/lanyard/autostart/$(ID).desktop
	@# Menus and icon themes see the new files (not when staging into DESTDIR).
	-[ -n "$(DESTDIR)" ] || gtk-update-icon-cache -q -t $(root)/share/icons/hicolor 2>/dev/null
	-[ -n "$(DESTDIR)" ] || update-desktop-database -q $(root)/share/applications 2>/dev/null

uninstall:
	rm -f $(root)/bin/lanyard $(root)/bin/lanyard-agent $(root)/bin/lanyard-gui $(root)/share/lanyard/autostart/$(ID).desktop
	for f in $(FILES); do rm -f $(root)/$$f; done
	-rmdir $(root)/share/lanyard/autostart $(root)/share/lanyard $(root)/share/doc/lanyard 2>/dev/null

user-install:
	$(MAKE) install PREFIX=$(HOME)/.local DESTDIR=

user-uninstall:
	$(MAKE) uninstall PREFIX=$(HOME)/.local DESTDIR=
