-- v0 -> v1: Latest revision

-- Session UserNames of a login and the stable ids they stand for. UserNames change at
-- every login, so rows are per login and replaced when a new session starts; they let a
-- restarted bridge resolve senders before WeChat repeats the id list.
CREATE TABLE wechat_identity (
	login_id  TEXT NOT NULL,
	user_name TEXT NOT NULL,
	stable_id TEXT NOT NULL,

	PRIMARY KEY (login_id, user_name)
);
