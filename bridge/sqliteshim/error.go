package sqlite3

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
)

// ErrNo is a primary SQLite result code (https://www.sqlite.org/rescode.html).
type ErrNo int

// ErrNoExtended is an extended SQLite result code: the primary code in the low
// 8 bits, the detail above them.
type ErrNoExtended int

// Primary result codes, as SQLite numbers them.
const (
	ErrError      ErrNo = 1  // generic error
	ErrInternal   ErrNo = 2  // internal logic error in SQLite
	ErrPerm       ErrNo = 3  // access permission denied
	ErrAbort      ErrNo = 4  // callback routine requested an abort
	ErrBusy       ErrNo = 5  // the database file is locked
	ErrLocked     ErrNo = 6  // a table in the database is locked
	ErrNomem      ErrNo = 7  // a malloc() failed
	ErrReadonly   ErrNo = 8  // attempt to write a readonly database
	ErrInterrupt  ErrNo = 9  // operation terminated by sqlite3_interrupt()
	ErrIoErr      ErrNo = 10 // some kind of disk I/O error occurred
	ErrCorrupt    ErrNo = 11 // the database disk image is malformed
	ErrNotFound   ErrNo = 12 // unknown opcode in sqlite3_file_control()
	ErrFull       ErrNo = 13 // insertion failed because database is full
	ErrCantOpen   ErrNo = 14 // unable to open the database file
	ErrProtocol   ErrNo = 15 // database lock protocol error
	ErrEmpty      ErrNo = 16 // internal use only
	ErrSchema     ErrNo = 17 // the database schema changed
	ErrTooBig     ErrNo = 18 // string or BLOB exceeds size limit
	ErrConstraint ErrNo = 19 // abort due to constraint violation
	ErrMismatch   ErrNo = 20 // data type mismatch
	ErrMisuse     ErrNo = 21 // library used incorrectly
	ErrNoLFS      ErrNo = 22 // uses OS features not supported on host
	ErrAuth       ErrNo = 23 // authorization denied
	ErrFormat     ErrNo = 24 // not used
	ErrRange      ErrNo = 25 // bind parameter index out of range
	ErrNotADB     ErrNo = 26 // file opened that is not a database file
	ErrNotice     ErrNo = 27 // notifications from sqlite3_log()
	ErrWarning    ErrNo = 28 // warnings from sqlite3_log()
)

// Extended result codes for constraint violations (the ones callers branch on).
var (
	ErrConstraintCheck      = ErrConstraint.Extend(1)
	ErrConstraintForeignKey = ErrConstraint.Extend(3)
	ErrConstraintNotNull    = ErrConstraint.Extend(5)
	ErrConstraintPrimaryKey = ErrConstraint.Extend(6)
	ErrConstraintUnique     = ErrConstraint.Extend(8)
	ErrConstraintRowID      = ErrConstraint.Extend(10)
)

// Extend returns the extended code with detail by on top of the primary code err.
func (err ErrNo) Extend(by int) ErrNoExtended {
	return ErrNoExtended(int(err) | by<<8)
}

func (err ErrNo) Error() string {
	return Error{Code: err}.Error()
}

func (err ErrNoExtended) Error() string {
	return Error{Code: ErrNo(err & 0xff), ExtendedCode: err}.Error()
}

// Error is an SQLite error. Like mattn's, it is used as a value: match it with
// errors.As(err, &sqlite3.Error{}) and compare Code.
type Error struct {
	Code         ErrNo         // primary result code
	ExtendedCode ErrNoExtended // extended result code (equals Code when there is no detail)

	msg   string
	cause error // the modernc.org/sqlite error this was mapped from
}

func (err Error) Error() string {
	if err.msg != "" {
		return err.msg
	}
	if s, ok := sqlite.ErrorCodeString[int(err.ExtendedCode)]; ok && err.ExtendedCode != 0 {
		return s
	}
	if s, ok := sqlite.ErrorCodeString[int(err.Code)]; ok {
		return s
	}
	return fmt.Sprintf("sqlite3: result code %d", int(err.Code))
}

// Unwrap gives access to the underlying modernc.org/sqlite error, if any.
func (err Error) Unwrap() error { return err.cause }

// mapErr turns errors that carry a modernc.org/sqlite result code into Error
// values; every other error (driver.ErrBadConn, context errors, …) is returned
// unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.As(err, &Error{}) {
		return err
	}
	var me *sqlite.Error
	if !errors.As(err, &me) {
		return err
	}
	code := me.Code()
	return Error{
		Code:         ErrNo(code & 0xff),
		ExtendedCode: ErrNoExtended(code),
		msg:          err.Error(),
		cause:        err,
	}
}
