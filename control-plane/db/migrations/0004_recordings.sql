CREATE TABLE `recordings` (
	`session_id` text PRIMARY KEY NOT NULL,
	`file_name` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`frames` integer DEFAULT 0 NOT NULL,
	`dropped_frames` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`session_id`) REFERENCES `sessions`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `recordings_started_idx` ON `recordings` (`started_at`);