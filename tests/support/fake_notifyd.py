#!/usr/bin/python3
"""A stand-in org.freedesktop.Notifications server for tests.

Prints one JSON line per Notify call (after a READY line) so a test can assert exactly what the
app posted.
"""
import json

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus):
        self.next_id = 1
        name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
        super().__init__(name, "/org/freedesktop/Notifications")

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, icon, summary, body, actions, hints, timeout):
        nid = int(replaces_id) or self.next_id
        self.next_id += 1
        print(json.dumps({"id": nid, "app_name": str(app_name), "summary": str(summary),
                          "body": str(body), "icon": str(icon), "timeout": int(timeout)}),
              flush=True)
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method(IFACE, out_signature="ssss")
    def GetServerInformation(self):
        return ("fake-notifyd", "herald-tests", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="u")
    def CloseNotification(self, nid):
        self.NotificationClosed(nid, 3)

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass


DBusGMainLoop(set_as_default=True)
Server(dbus.SessionBus())
print("READY", flush=True)
GLib.MainLoop().run()
