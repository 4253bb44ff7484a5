/** The drill report for people: the figures first, then every step with its time. */
import type { DrillReport } from './run-drill.ts';

const s = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(2)} s`);

export function renderDrillReport(r: DrillReport): string {
  const lines = [
    `Drill ${r.scenario}: ${r.ok ? 'PASSED' : 'FAILED'}  (lab ${r.labId}, run ${r.runId ?? '—'})`,
    '',
    `  time to recover (fault → first successful user request)  ${s(r.rtoSeconds)}`,
    ...(r.auto
      ? [
        `  the daemon noticed (fault → incident confirmed)           ${s(r.detectSeconds)}`,
        `  the daemon's recovery done (fault → end of its run)       ${s(r.recoverSeconds)}`,
        ...(r.daemonKilled ? [`  the daemon SIGKILLed ${r.daemonKilled.afterS} s into the run, restarted: ${r.daemonKilled.resumed ? 'resumed it from the journal' : 'DID NOT resume it'}`] : []),
      ]
      : [`  lifeboat recover run                                      ${s(r.recoverSeconds)}`]),
    `  the run's start → the business answers again              ${s(r.businessAnsweredSeconds)}`,
    `  services the recovery restarted on the surviving machines ${r.restartedServices.length ? r.restartedServices.join(', ') : 'none'}`,
    `  acknowledged writes lost                                  ${r.lostWrites}${lossNote(r)}`,
    `  acknowledged files lost                                   ${r.uploadsChecked ? `${r.lostUploads}${r.uploadsInSyncWindow ? ` (+${r.uploadsInSyncWindow} made within the upload sync interval before the fault)` : ''}` : 'not checked: no machine keeping the upload files survives'}`,
    `  a singleton running twice at once                         ${r.doubleJobRuns}`,
    ...(r.operatorLinkMbit !== undefined ? [`  the operator's line during the recovery (--operator-link)   ${r.operatorLinkMbit} Mbit/s each way`] : []),
    ...(r.databaseMb !== undefined ? [`  database size before the fault (--db-size)                ${r.databaseMb} MB, every row of it on the serving database${r.ok ? '' : ' (see the problems)'}`] : []),
    ...(r.rejoin ? [
      `  the old primary back: rejoin run                          ${r.rejoin.outcome}, ${s(r.rejoin.seconds)}`,
      `  …it ran as it was, from power-on to fenced                ${s(r.rejoin.fencedAfterS)}`,
      `  …rows it alone held, in the extract on the operator       ${r.rejoin.markersInExtract} of ${r.rejoin.markersWritten} (${r.rejoin.extractedTransactions ?? '?'} transaction(s) in ${r.rejoin.extractFile ?? 'no file'})`,
    ] : []),
    ...(r.newEdge ? [
      `  the new edge, asked from the users' side                  ${r.newEdge.machine}: ${Object.values(r.newEdge.answers).filter((a) => a === 'ok').length} of ${Object.keys(r.newEdge.answers).length} URL(s) answered on ${r.newEdge.domains.join(', ')}`,
    ] : []),
    `  standby at the end (semi-sync replica with every row)     ${r.standby ?? `none${Object.keys(r.standbyChecked ?? {}).length ? ` (${Object.entries(r.standbyChecked).filter(([, why]) => !why.startsWith('no MariaDB answers') && why !== 'not a replica').map(([m, why]) => `${m}: ${why}`).join('; ') || 'no replica'})` : ''}`}`,
    `  traffic                                                   ${r.traffic.requests} requests, ${r.traffic.ok} ok, ${r.traffic.failed} failed; checked ${Object.entries(r.acknowledged).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing'}`,
    ...(r.wire ? [
      `  on the wire (lab switch, prepare to the end)              ${r.wire.packets} packets, ${(r.wire.bytes / 1048576).toFixed(1)} MiB; ` +
        `secrets in clear: ${r.wire.secretsInClear.length ? r.wire.secretsInClear.join(', ') : 'none'}; markers in clear: ${r.wire.markersInClear} of ${r.wire.markersPlanted}`,
      `  connections to the database ports (encrypted/clear/no data) ${Object.entries(r.wire.flows).map(([port, f]) => `${port}: ${f.encrypted}/${f.clear}/${f.empty}`).join(', ')}`,
    ] : []),
    '',
    '  first success after the fault, per domain:',
    ...Object.entries(r.rtoByDomain).map(([d, v]) => `    ${d.padEnd(16)} ${s(v)}`),
    '  per service:',
    ...Object.entries(r.rtoByService).map(([d, v]) => `    ${d.padEnd(16)} ${s(v)}`),
    '',
    '  recovery steps:',
    ...r.steps.map((st) => `    ${(st.seconds === null ? '' : st.seconds.toFixed(2)).padStart(6)}  ${st.outcome.padEnd(9)} ${st.title}`),
  ];
  if (r.problems.length) lines.push('', '  problems:', ...r.problems.map((p) => `    - ${p}`));
  return lines.join('\n') + '\n';
}

function lossNote(r: DrillReport): string {
  if (r.lossBound === 'last-second') {
    const last = r.lostWritesLastSecond ?? [];
    return ` (the newest backup was taken ${r.backupAgeSeconds} s before the fault; the shipped binary log was replayed: ${last.length} lost write(s) sent in the last second${last.length ? `, ${last.map((w) => `${w.beforeFaultS} s`).join(', ')} before it` : ''})`;
  }
  if (r.lossBound === 'replica-stopped') return ' (written after the drill stopped the standby: given up with --accept-data-loss, and held by the old primary alone)';
  if (r.lossBound === 'newest-backup') return ` (${r.lostWritesAfterBackup} made after the newest backup, taken ${r.backupAgeSeconds} s before the fault, and no store that ships the binary log survived: the loss is bounded by the backup interval)`;
  return '';
}
