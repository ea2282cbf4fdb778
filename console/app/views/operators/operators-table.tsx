import type { Operator, Organisation } from '../../api/types.ts';
import { organisationName } from '../../format/labels.ts';
import { TableCard } from '../common/table-card.tsx';
import { OperatorRow } from './operator-row.tsx';

export interface OperatorsTableProps {
  operators: Operator[];
  organisations: Organisation[];
  /** The signed-in operator, who cannot disable themselves or give up the administrator role. */
  selfId: string;
  canManage: boolean;
  onChanged(operator: Operator, message: string): void;
}

/** Every operator the signed-in one may see, with the actions of administrators. */
export function OperatorsTable({
  operators,
  organisations,
  selfId,
  canManage,
  onChanged,
}: OperatorsTableProps) {
  const sorted = [...operators].sort(
    (a, b) => Number(a.disabled) - Number(b.disabled) || a.name.localeCompare(b.name),
  );
  return (
    <TableCard
      label="Operators"
      testId="operators"
      heads={['Operator', 'Role', 'Organisation', 'Second factor', 'Status']}
      actions={canManage}
    >
      {sorted.map((operator) => (
        <OperatorRow
          key={operator.id}
          operator={operator}
          organisation={organisationName(operator.organisationId, organisations)}
          isSelf={operator.id === selfId}
          canManage={canManage}
          onChanged={onChanged}
        />
      ))}
    </TableCard>
  );
}
