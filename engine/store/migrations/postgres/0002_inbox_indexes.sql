-- The inbox indexes hold only the tasks an inbox lists, with every task column it shows.
--
-- Partial: a task leaves `tasks_inbox` when it is claimed, completed or cancelled, instead of
-- staying in the index for ever under its final status. The index stays the size of the open
-- work, and completing a task no longer writes an index page among the closed tasks.
--
-- Covering (INCLUDE): a page of an inbox can be an index-only scan of one ordered range, with
-- no visit to the heap for pages the visibility map marks all-visible.
DROP INDEX tasks_inbox;
CREATE INDEX tasks_inbox ON tasks (office, role, due, case_id, task)
    INCLUDE (status, step, assigned_to, opened_at, breached)
    WHERE status = 'open';

DROP INDEX tasks_claimed;
CREATE INDEX tasks_claimed ON tasks (claimed_by, office, role, due, case_id, task)
    INCLUDE (status, step, assigned_to, opened_at, breached)
    WHERE status = 'claimed';
