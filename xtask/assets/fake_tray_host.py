#!/usr/bin/python3
"""A minimal StatusNotifierWatcher with a registered host, for headless measurements.

With it on the session bus, Herald sees a tray host (as on a desktop with a tray) and lives on
in the tray when its window closes, exactly as it would for a user.
"""
import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.kde.StatusNotifierWatcher"


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
        super().__init__(name, "/StatusNotifierWatcher")
        self.items = []

    @dbus.service.method(IFACE, in_signature="s")
    def RegisterStatusNotifierItem(self, service):
        self.items.append(str(service))

    @dbus.service.method(IFACE, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "ProtocolVersion": dbus.Int32(0),
        }


DBusGMainLoop(set_as_default=True)
Watcher(dbus.SessionBus())
print("READY", flush=True)
GLib.MainLoop().run()
