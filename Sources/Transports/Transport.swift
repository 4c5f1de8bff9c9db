// Glibc sockets, the event loop and connections live here (issue 4).
