#!/usr/bin/python3
"""A minimal StatusNotifierWatcher for tests: it owns
org.kde.StatusNotifierWatcher on the session bus so an app believes a tray
host is showing its icon, accepts item and host registrations, and prints
each registered item as "item <bus name> <object path>" (flushed) so a test
can find the item. It shows nothing. Runs until SIGTERM/SIGINT.

/usr/bin/python3 on purpose: python3-dbus and python3-gi are system packages
that a pyenv or venv interpreter earlier on PATH would not see.
"""
import signal
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NAME = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"
IFACE = "org.kde.StatusNotifierWatcher"
PROPS = "org.freedesktop.DBus.Properties"


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PATH)
        self.bus = bus
        self.items = []

    def _props(self):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }

    @dbus.service.method(IFACE, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # The spec lets an item pass either its bus name or just its object
        # path; with a path, the item lives on the caller's connection.
        if service.startswith("/"):
            bus_name, path = sender, service
        else:
            bus_name, path = service, "/StatusNotifierItem"
        entry = bus_name + path
        if entry not in self.items:
            self.items.append(entry)
            print("item", bus_name, path, flush=True)
            self.StatusNotifierItemRegistered(entry)
            self.PropertiesChanged(IFACE, {"RegisteredStatusNotifierItems": self._props()["RegisteredStatusNotifierItems"]}, [])

    @dbus.service.method(IFACE, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierHost(self, service, sender=None):
        print("host", service, flush=True)
        self.StatusNotifierHostRegistered()

    @dbus.service.signal(IFACE, signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.signal(IFACE, signature="s")
    def StatusNotifierItemUnregistered(self, service):
        pass

    @dbus.service.signal(IFACE, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        props = self._props()
        if interface != IFACE or prop not in props:
            raise dbus.exceptions.DBusException(
                "no property %s.%s" % (interface, prop),
                name="org.freedesktop.DBus.Error.UnknownProperty")
        return props[prop]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return self._props() if interface == IFACE else {}

    @dbus.service.method(PROPS, in_signature="ssv", out_signature="")
    def Set(self, interface, prop, value):
        raise dbus.exceptions.DBusException(
            "%s is read-only" % prop, name="org.freedesktop.DBus.Error.PropertyReadOnly")

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    def forget(self, name, old_owner, new_owner):
        # An item whose connection closed is gone from the tray.
        if new_owner:
            return
        for entry in [e for e in self.items if e.startswith(name + "/")]:
            self.items.remove(entry)
            print("gone", entry, flush=True)
            self.StatusNotifierItemUnregistered(entry)


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    bus.add_signal_receiver(watcher.forget, signal_name="NameOwnerChanged",
                            dbus_interface="org.freedesktop.DBus", path="/org/freedesktop/DBus")
    # Own the name only once the object is exported, so whoever sees the
    # name can call it at once.
    reply = bus.request_name(NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    if reply != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        print("sni-watcher: %s is already owned" % NAME, file=sys.stderr)
        return 1
    print("watching", bus.get_unique_name(), flush=True)
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
