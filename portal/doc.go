// Package portal converts between WeChat messages and Matrix content, both ways, and
// makes and parses the bridge's network IDs. It is pure: no network, no database, no
// bridgev2 runtime, so every conversion is a table test.
//
// WeChat → Matrix switches on protoclient's typed content and never parses wire text.
//
// It may import protoclient (ids, typed events and the content encoder) and mautrix's event, format
// and networkid packages; it must not import bridge/ or anything that does I/O.
package portal
